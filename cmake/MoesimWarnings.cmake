# Warnings for moesim's own targets (never for third-party headers, which are SYSTEM).
function(moesim_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports '__Y may be used uninitialized' inside its own avx512fintrin.h when
    # Eigen 3.4 inlines AVX-512 kernels (a false positive located in the compiler's header,
    # so SYSTEM includes cannot silence it).
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    # On an AVX-512 CPU, Eigen's vectorised log (plog) inlines _mm512_undefined_pd and GCC 12
    # reports the same false positive as '__Y is used uninitialized' (GCC bug 105593, fixed
    # in GCC 13).
    if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-uninitialized)
    endif()
  endif()
  if(MOESIM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
