/*
 * The parts of vm.c, vcpu.c, error.c and the arch code the fuzzed code calls, without
 * threads or KVM. vm_stop() keeps vm.c's rule (the first stop wins and
 * sets `stopping`) and formats every message, so a bad format argument
 * still shows under the sanitizers; vmm_log() formats and counts instead
 * of printing (FUZZ_VERBOSE=1 prints). error.c is not linked: its
 * vmm_log() is this one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/vm.h"
#include "fake.h"

struct fake_vm_record fake_vm;

VMM_DEFINE_QUARK(vmm-error-quark, vmm_error)

const char arch_name[] = "fuzz";

/* policy.c's question: which in-kernel services could a policy govern.
 * None (as on x86_64): vmm's own services are what the fuzzers reach. */
uint64_t arch_kvm_services(void)
{
    return 0;
}

/* vm_calls.c's start hook hands the policy to KVM when a VM starts; no
 * fuzzer starts one, so reaching this is a bug in the fuzzer. */
bool arch_vm_apply_policy(struct vm *vm, const struct vm_policy *policy, GError **error)
{
    abort();
}

void fake_vm_reset(void)
{
    fake_vm = (struct fake_vm_record){ 0 };
    fake_console = (struct fake_console_record){ 0 };
}

void vmm_log(const char *fmt, ...)
{
    static int verbose = -1;
    va_list ap;
    char *line;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "vmm: %s\n", line);
    g_free(line);
    fake_vm.log_lines++;
}

static void stop_v(struct vm *vm, vm_stop_reason reason, int status, const char *fmt,
                   va_list ap)
{
    fake_vm.stops++;
    if (vm->stop.reason != VM_STOP_NONE)
        return;
    vm->stop.reason = reason;
    vm->stop.status = status;
    if (fmt)
        vm->stop.message = g_strdup_vprintf(fmt, ap);
    __atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
}

void vm_stop(struct vm *vm, vm_stop_reason reason, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stop_v(vm, reason, status, fmt, ap);
    va_end(ap);
}

/* The status as the guest gave it (vm.c maps > 119 to 119 and says so). */
void vm_guest_exit(struct vm *vm, unsigned status)
{
    vm_stop(vm, VM_STOP_GUEST_EXIT, status & 0xff, NULL);
}

void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stop_v(vcpu->vm, VM_STOP_CRASH, VMM_EXIT_CRASHED, fmt, ap);
    va_end(ap);
}

void fake_vm_init(struct vm *vm, const char *name)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = (char *)name;
    vm->fd = -1;
    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    iobus_init(&vm->iobus);
}

void fake_vm_clear(struct vm *vm)
{
    iobus_destroy(&vm->iobus);
    g_free(vm->stop.message);
    g_mutex_clear(&vm->lock);
    g_cond_clear(&vm->cond);
}
