# Warnings for our own code (never for vendored code).
function(vm_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith
    -Wmissing-prototypes -Wcast-qual -Wvla -Wformat=2
    -Wno-unused-parameter)
  if(VM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(VM_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
endfunction()
