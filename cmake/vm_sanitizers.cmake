# Sanitizer options (VM_SANITIZE_*), applied per target so that every
# module, test and the executable are instrumented alike.
set(VM_SAN_FLAGS "")
if(VM_SANITIZE_ADDRESS)
  list(APPEND VM_SAN_FLAGS -fsanitize=address -fno-omit-frame-pointer)
endif()
if(VM_SANITIZE_UNDEFINED)
  list(APPEND VM_SAN_FLAGS -fsanitize=undefined -fno-sanitize-recover=undefined)
endif()
if(VM_SANITIZE_THREAD)
  list(APPEND VM_SAN_FLAGS -fsanitize=thread)
endif()

function(vm_target_sanitizers target)
  if(VM_SAN_FLAGS)
    target_compile_options(${target} PRIVATE ${VM_SAN_FLAGS})
    target_link_options(${target} PUBLIC ${VM_SAN_FLAGS})
  endif()
endfunction()
