/* Shared between the x86_64 architecture files. */
#ifndef VMM_X86_H
#define VMM_X86_H

#include <stdint.h>

struct vm;

/* The top of vCPU @id's boot stack. */
uint64_t x86_vcpu_stack_top(struct vm *vm, unsigned id);

#endif
