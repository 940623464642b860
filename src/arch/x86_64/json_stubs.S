/*
 * One stub per json-glib function vmm calls (vmm/json_symbols.h): a jump
 * through the pointer src/base/json_lazy.c fills when vmm_json_load()
 * opens the library. The arguments are untouched, whatever the signature.
 */
#include "vmm/json_symbols.h"

    .text
#define VMM_JSON_SYMBOL(name)                           \
    .globl name;                                        \
    .hidden name;                                       \
    .type name, @function;                              \
    .p2align 3;                                         \
name:                                                   \
    jmp *vmm_json_ptr_##name(%rip);                     \
    .size name, . - name;

VMM_JSON_SYMBOLS

    .section .note.GNU-stack, "", @progbits
