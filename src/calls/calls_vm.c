/* VM management calls of a service VM, handed to whoever hosts the VM
 * (struct vm_host_ops). Without a host, or when the host refuses, the
 * guest sees "invalid". */
#include "vmm/calls.h"
#include "vmm/vm-host.h"
#include "vmm/vm.h"

static call_status host_result(int r)
{
    return r == 0 ? CALL_OK : CALL_INVALID;
}

#define HOST_OP(vm, op) ((vm)->calls->host && (vm)->calls->host->op)

call_status call_vm_create(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;

    if (!HOST_OP(vm, vm_create))
        return CALL_INVALID;
    return host_result(vm->calls->host->vm_create(vm, call->args[0], &call->ret[0]));
}

call_status call_vm_start(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;

    if (!HOST_OP(vm, vm_start))
        return CALL_INVALID;
    return host_result(vm->calls->host->vm_start(vm, call->args[0]));
}

call_status call_vm_stop(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;

    if (!HOST_OP(vm, vm_stop))
        return CALL_INVALID;
    return host_result(vm->calls->host->vm_stop(vm, call->args[0]));
}

call_status call_vm_destroy(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;

    if (!HOST_OP(vm, vm_destroy))
        return CALL_INVALID;
    return host_result(vm->calls->host->vm_destroy(vm, call->args[0]));
}

call_status call_vm_query(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;

    if (!HOST_OP(vm, vm_query))
        return CALL_INVALID;
    return host_result(vm->calls->host->vm_query(vm, call->args[0], &call->ret[0], &call->ret[1]));
}
