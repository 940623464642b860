/*
 * The ucall channel: a per-vCPU structure in guest RAM and a doorbell. The
 * architecture registers the doorbell (x86_64 port, aarch64 MMIO) and
 * decodes its value; everything else is here. The structure is copied out
 * of guest memory before it is checked, so another vCPU rewriting it
 * mid-call changes nothing.
 */
#include <stdarg.h>
#include <string.h>

#include "vmm/calls.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/ucall.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"

G_STATIC_ASSERT(sizeof(struct vmm_ucall) == VMM_UCALL_STRIDE);

uint64_t ucall_area_size(unsigned nr_vcpus)
{
    return (uint64_t)nr_vcpus * VMM_UCALL_STRIDE;
}

void ucall_area_init(struct vm *vm, uint64_t gpa)
{
    vm->calls->ucall_gpa = gpa;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        uint64_t self = gpa + (uint64_t)i * VMM_UCALL_STRIDE;
        struct vmm_ucall *u = gpa_to_hva(&vm->mem, self, sizeof(*u));

        memset(u, 0, sizeof(*u));
        u->self = self;
    }
}

uint64_t ucall_area_gpa(const struct vm *vm)
{
    return vm->calls->ucall_gpa;
}

static const char *ucall_problem(struct vm *vm, uint64_t gpa, const struct vmm_ucall *u)
{
    if (gpa != u->self)
        return "its self field differs";
    if (u->text_len > VMM_UCALL_TEXT_MAX || u->file_len > u->text_len)
        return "its text runs off the buffer";
    return NULL;
}

void ucall_reject(struct vcpu *vcpu, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    __atomic_fetch_add(&vcpu->vm->calls->stats.ucall_rejected, 1, __ATOMIC_RELAXED);
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    call_log_guest(vcpu, "%s", msg);
}

void ucall_ring(struct vcpu *vcpu, uint64_t gpa)
{
    struct vm *vm = vcpu->vm;
    uint64_t area = vm->calls->ucall_gpa;
    struct vmm_ucall u, *live;
    const char *problem = NULL;
    call_status status;

    if (gpa < area || gpa - area >= ucall_area_size(vm->nr_vcpus))
        problem = "outside the ucall area";
    else if ((gpa - area) % VMM_UCALL_STRIDE)
        problem = "not the start of a ucall structure";
    else if ((gpa - area) / VMM_UCALL_STRIDE != vcpu->id)
        problem = "another vCPU's structure"; /* so every message is attributed right */
    live = problem ? NULL : gpa_to_hva(&vm->mem, gpa, sizeof(u));
    if (live) {
        memcpy(&u, live, sizeof(u));
        problem = ucall_problem(vm, gpa, &u);
    } else if (!problem) {
        problem = "outside guest RAM";
    }
    if (problem) {
        ucall_reject(vcpu, "ucall doorbell %#llx refused: %s", (unsigned long long)gpa,
                     problem);
        return;
    }

    struct guest_call call = {
        .id = u.cmd,
        .args = { u.arg },
        .conduit = CONDUIT_UCALL,
        .text = u.text,
        .text_len = u.text_len,
        .file_len = u.file_len,
        .line = u.line,
    };
    call_verdict v = call_dispatch(vcpu, &call, &status);

    for (int i = 0; i < 4; i++)
        live->ret[i] = (long long)call.ret[i];
    if (v != CALL_ALLOWED || status == CALL_NOT_SUPPORTED)
        live->ret[0] = VMM_RET_NOT_SUPPORTED;
    else if (status == CALL_INVALID)
        live->ret[0] = VMM_RET_INVALID;
}

call_status call_ucall_print(struct vcpu *vcpu, struct guest_call *call)
{
    if (!call->text)
        return CALL_INVALID;
    console_write(vcpu->vm->console, call->text + call->file_len,
                  call->text_len - call->file_len);
    return CALL_OK;
}

call_status call_ucall_sync(struct vcpu *vcpu, struct guest_call *call)
{
    call_log_sync(vcpu, call->args[0]);
    return CALL_OK;
}

call_status call_ucall_done(struct vcpu *vcpu, struct guest_call *call)
{
    vm_guest_exit(vcpu->vm, call->args[0] > 0xff ? 0xff : (unsigned)call->args[0]);
    return CALL_OK;
}

/* A guest assertion failed: the guest's test failed (status 1), with where
 * and why, made printable. */
call_status call_ucall_abort(struct vcpu *vcpu, struct guest_call *call)
{
    g_autofree char *file = NULL, *msg = NULL, *efile = NULL, *emsg = NULL;

    if (!call->text)
        return CALL_INVALID;
    file = g_strndup(call->text, call->file_len);
    msg = g_strndup(call->text + call->file_len, call->text_len - call->file_len);
    efile = g_strescape(file, NULL);
    emsg = g_strescape(msg, NULL);
    vm_stop(vcpu->vm, VM_STOP_GUEST_EXIT, 1, "guest assertion failed on vCPU %u at %s:%u: %s",
            vcpu->id, efile, call->line, emsg);
    return CALL_OK;
}
