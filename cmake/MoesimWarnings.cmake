# Warnings for moesim's own targets (never for third-party headers, which are SYSTEM).
function(moesim_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports '__Y may be used uninitialized' inside its own avx512fintrin.h when
    # Eigen 3.4 inlines AVX-512 kernels (a false positive located in the compiler's header,
    # so SYSTEM includes cannot silence it). On AVX-512 machines (Intel Xeon) the same
    # false positive comes as '__Y is used uninitialized' (_mm512_max_pd in Eigen's plog).
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
  endif()
  if(MOESIM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
