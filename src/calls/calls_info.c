/* Discovery and console calls: what any VM with the "info" or "console"
 * flag may ask. */
#include <string.h>

#include "vmm/calls.h"
#include "vmm/console.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"

call_status call_vendor_uid(struct vcpu *vcpu, struct guest_call *call)
{
    call->ret[0] = VMM_UUID_W0;
    call->ret[1] = VMM_UUID_W1;
    call->ret[2] = VMM_UUID_W2;
    call->ret[3] = VMM_UUID_W3;
    return CALL_OK;
}

call_status call_vendor_revision(struct vcpu *vcpu, struct guest_call *call)
{
    call->ret[0] = VMM_ABI_MAJOR;
    call->ret[1] = VMM_ABI_MINOR;
    return CALL_OK;
}

call_status call_version(struct vcpu *vcpu, struct guest_call *call)
{
    call->ret[0] = (VMM_ABI_MAJOR << 16) | VMM_ABI_MINOR;
    return CALL_OK;
}

/* Would this VM be allowed the call @a1? Asks the same decision the
 * dispatcher makes, so the answer cannot drift from the behaviour. */
call_status call_features(struct vcpu *vcpu, struct guest_call *call)
{
    const struct call_entry *e;

    if (call->args[0] > UINT32_MAX)
        return CALL_INVALID;
    e = call_lookup((uint32_t)call->args[0]);
    if (call_decide(&vcpu->vm->calls->policy, e, call->privilege) != CALL_ALLOWED)
        return CALL_NOT_SUPPORTED;
    call->ret[0] = 0;
    return CALL_OK;
}

call_status call_whoami(struct vcpu *vcpu, struct guest_call *call)
{
    struct vm *vm = vcpu->vm;
    uint64_t name = 0;

    memcpy(&name, vm->name, MIN(strlen(vm->name), sizeof(name)));
    call->ret[0] = vcpu->id;
    call->ret[1] = vm->calls->policy.role == VM_ROLE_SERVICE;
    call->ret[2] = vm->id;
    call->ret[3] = name;
    return CALL_OK;
}

#define CONSOLE_WRITE_MAX 4096

call_status call_console_write(struct vcpu *vcpu, struct guest_call *call)
{
    uint64_t gpa = call->args[0], len = call->args[1];
    void *buf;

    if (len > CONSOLE_WRITE_MAX)
        return CALL_INVALID;
    buf = gpa_to_hva(&vcpu->vm->mem, gpa, len);
    if (!buf && len)
        return CALL_INVALID;
    console_write(vcpu->vm->console, buf, len);
    call->ret[0] = len;
    return CALL_OK;
}
