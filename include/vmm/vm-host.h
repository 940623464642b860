/*
 * What a VM's guest calls may ask of the program that hosts the VM. The VM
 * manager (the control socket's `vmm serve`) fills this in; under a plain
 * `vmm run` it is NULL and the management calls answer "invalid".
 * Every hook runs on the calling vCPU's thread and must not block on it.
 */
#ifndef VMM_VM_HOST_H
#define VMM_VM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/calls.h"

struct vm;
struct vcpu;

/* What VMM_CALL_VM_QUERY reports as a VM's state (docs/abi.md). */
typedef enum {
    GUEST_VM_PRELAUNCH = 0,
    GUEST_VM_RUNNING = 1,
    GUEST_VM_PAUSED = 2,
    GUEST_VM_SHUTDOWN = 3,
} guest_vm_state;

struct vm_host_ops {
    /* The management calls of a service VM (@caller) on a VM it created:
     * 0 or -errno (-ENOENT no such VM or image, -EPERM not manageable by
     * @caller, -EDQUOT over a quota, -EBUSY wrong state). @image is an
     * index into the images the host registered, never a host path. */
    int (*vm_create)(struct vm *caller, uint64_t image, uint64_t *id);
    int (*vm_start)(struct vm *caller, uint64_t id);
    int (*vm_stop)(struct vm *caller, uint64_t id);
    int (*vm_destroy)(struct vm *caller, uint64_t id);
    int (*vm_query)(struct vm *caller, uint64_t id, uint64_t *state, uint64_t *status);
    /* A refused call, already rate-limited by the dispatcher (for the
     * HYPERCALL_DENIED event). @reason is a call_verdict name. */
    void (*call_refused)(struct vm *vm, unsigned vcpu, uint32_t id, const char *reason);
    /* A call the policy allowed, offered to an external monitor before its
     * handler runs: true when a monitor claims its ID (then *status and
     * call->ret are the monitor's answer, or a refusal when it did not
     * answer in time or has gone); false to run the handler. May wait,
     * with a bound. */
    bool (*forward_call)(struct vcpu *vcpu, struct guest_call *call, call_status *status);
};

#endif
