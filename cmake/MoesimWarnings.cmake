# Warnings for moesim's own targets (never for third-party headers, which are SYSTEM).
function(moesim_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports '__Y may be used uninitialized' (and, on AVX-512 CPUs such as Sapphire
    # Rapids, '__Y is used uninitialized') inside its own avx512fintrin.h when Eigen 3.4
    # inlines AVX-512 kernels: _mm512_undefined_pd's self-initialisation, a false positive
    # located in the compiler's header, so SYSTEM includes cannot silence it.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-uninitialized)
    endif()
  endif()
  if(MOESIM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
