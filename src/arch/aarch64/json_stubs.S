/*
 * One stub per json-glib function vmm calls (vmm/json_symbols.h): a jump
 * through the pointer src/base/json_lazy.c fills when vmm_json_load()
 * opens the library. x16 is the intra-procedure-call scratch register the
 * AAPCS64 leaves to veneers like this one; the arguments are untouched.
 */
#include "vmm/json_symbols.h"

    .text
#define VMM_JSON_SYMBOL(name)                           \
    .globl name;                                        \
    .hidden name;                                       \
    .type name, %function;                              \
    .p2align 3;                                         \
name:                                                   \
    adrp x16, vmm_json_ptr_##name;                      \
    ldr x16, [x16, :lo12:vmm_json_ptr_##name];          \
    br x16;                                             \
    .size name, . - name;

VMM_JSON_SYMBOLS

    .section .note.GNU-stack, "", %progbits
