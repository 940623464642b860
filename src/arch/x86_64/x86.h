/* Shared between the x86_64 architecture files. */
#ifndef VMM_X86_H
#define VMM_X86_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Control register and EFER bits for the long-mode state vmm sets up. */
#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL


/* The top of vCPU @id's boot stack. */
uint64_t x86_vcpu_stack_top(struct vm *vm, unsigned id);

/* vmcall.c: the call conduit. */
struct vcpu;
struct _GError;
bool x86_vmcall_init(struct vm *vm, struct _GError **error);
bool x86_vmcall_available(struct vm *vm);
void x86_handle_vmcall(struct vcpu *vcpu);

/* hyperv.c: [vm] hyperv. x86_hyperv_init() after KVM's supported CPUID is
 * read, before any vCPU; x86_hyperv_vcpu_init() on each new vCPU. Both do
 * nothing without VM_HYPERV. */
bool x86_hyperv_init(struct vm *vm, struct _GError **error);
bool x86_hyperv_vcpu_init(struct vcpu *vcpu, struct _GError **error);
void x86_handle_hyperv(struct vcpu *vcpu);

#endif
