/* Shared between the x86_64 architecture files. */
#ifndef VMM_X86_H
#define VMM_X86_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* The top of vCPU @id's boot stack. */
uint64_t x86_vcpu_stack_top(struct vm *vm, unsigned id);

/* vmcall.c: the call conduit. */
struct vcpu;
struct _GError;
bool x86_vmcall_init(struct vm *vm, struct _GError **error);
bool x86_vmcall_available(struct vm *vm);
void x86_handle_vmcall(struct vcpu *vcpu);

#endif
