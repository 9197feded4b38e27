# Warning flags for our own targets; AUTHKIT_WERROR turns them into errors (on in CI).
function(authkit_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wformat-security -Wvla -Wpointer-arith -Wcast-qual
    -Wundef)
  if(AUTHKIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
