/*
 * The vCPU loop: KVM_RUN, then one switch from the exit reason to a device
 * model or a stop. Everything an architecture alone produces goes to
 * arch_handle_exit().
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

static void kick_handler(int sig)
{
    (void)sig; /* only here so that KVM_RUN returns EINTR */
}

void vcpu_kick_init(void)
{
    struct sigaction sa = { .sa_handler = kick_handler };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...)
{
    GString *msg = g_string_new("guest crashed: ");
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(msg, fmt, ap);
    va_end(ap);
    g_string_append_printf(msg, " on vCPU %u", vcpu->id);
    arch_vcpu_dump(vcpu, msg);
    vm_stop(vcpu->vm, VM_STOP_CRASH, VMM_EXIT_CRASHED, "%s", msg->str);
    g_string_free(msg, TRUE);
}

static void handle_pio(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

    /* rep ins/outs arrive as one exit with count > 1. */
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
        iobus_access(&vcpu->vm->iobus, IOBUS_PIO, vcpu, run->io.port, data,
                     run->io.size, is_write);
}

static void handle_system_event(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;

    switch (vcpu->run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        vm_stop(vm, VM_STOP_POWEROFF, 0, NULL);
        break;
    case KVM_SYSTEM_EVENT_RESET:
        vm_stop(vm, VM_STOP_RESET, 0, "guest reset: the VM ends");
        break;
    case KVM_SYSTEM_EVENT_CRASH:
        vcpu_crash(vcpu, "the guest reported a crash (system event)");
        break;
    default:
        vcpu_crash(vcpu, "unknown system event %u", vcpu->run->system_event.type);
        break;
    }
}

static bool vm_is_paused(struct vm *vm)
{
    return __atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE);
}

/* Waits, counted as still for vm_pause(), until the VM stops or, with
 * @while_paused, is no longer paused. Called with vm->lock held. */
static void vcpu_wait_still_locked(struct vcpu *vcpu, bool while_paused)
{
    struct vm *vm = vcpu->vm;

    vm->quiescent++;
    g_cond_broadcast(&vm->cond);
    while (!vm_is_stopping(vm) && (!while_paused || vm_is_paused(vm)))
        g_cond_wait(&vm->cond, &vm->lock);
    vm->quiescent--;
}

/* Parks a vCPU that has nothing more to do until the VM stops. */
static void vcpu_park(struct vcpu *vcpu)
{
    g_mutex_lock(&vcpu->vm->lock);
    vcpu_wait_still_locked(vcpu, false);
    g_mutex_unlock(&vcpu->vm->lock);
}

/*
 * The one place a vCPU decides whether it may enter KVM_RUN. A kick
 * (vm_pause(), vm_stop()) sets immediate_exit under vm->lock, and only
 * this function clears it, under the same lock, after honouring the pause:
 * so wherever the vCPU was when the kick came (in KVM_RUN, in a device, or
 * blocked in a host call, an external monitor's answer, a console write),
 * it passes through here before the guest runs again, and a resumed vCPU
 * never keeps a stale immediate_exit (which would make KVM_RUN fail at
 * once, for ever). A pause that comes after the unlock sets immediate_exit
 * again, so the next KVM_RUN returns at once or the signal interrupts it.
 */
static void vcpu_pause_point(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;

    if (!__atomic_load_n(&vcpu->run->immediate_exit, __ATOMIC_ACQUIRE) && !vm_is_paused(vm))
        return;
    g_mutex_lock(&vm->lock);
    if (vm_is_paused(vm))
        vcpu_wait_still_locked(vcpu, true);
    if (!vm_is_stopping(vm))
        __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELEASE);
    g_mutex_unlock(&vm->lock);
}

static void vcpu_handle_exit(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_pio(vcpu);
        break;
    case KVM_EXIT_MMIO:
        iobus_access(&vcpu->vm->iobus, IOBUS_MMIO, vcpu, run->mmio.phys_addr,
                     run->mmio.data, run->mmio.len, run->mmio.is_write);
        break;
    case KVM_EXIT_INTR:
        break;
    case KVM_EXIT_HLT:
        /* Without an in-kernel irqchip nothing can wake a halted vCPU. */
        vcpu_park(vcpu);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        handle_system_event(vcpu);
        break;
    case KVM_EXIT_SHUTDOWN:
        vcpu_crash(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        vcpu_crash(vcpu, "KVM internal error, suberror %u (KVM_EXIT_INTERNAL_ERROR)",
                   run->internal.suberror);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        vcpu_crash(vcpu, "entry failed, hardware reason %#llx (KVM_EXIT_FAIL_ENTRY)",
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    default:
        if (!arch_handle_exit(vcpu))
            vcpu_crash(vcpu, "unexpected KVM exit reason %u", run->exit_reason);
        break;
    }
}

/* A VM stopped from outside (a timeout, a signal) may be a hung guest:
 * each vCPU thread notes where its guest was, and the last one adds them
 * to the stop's message, so that the user can look the addresses up (in
 * System.map, with addr2line) without a debugger. */
static bool stopped_from_outside(struct vm *vm)
{
    return vm->stop.message &&
           (vm->stop.reason == VM_STOP_TIMEOUT || vm->stop.reason == VM_STOP_SIGNAL);
}

static void vcpu_note_pc(struct vcpu *vcpu)
{
    vcpu->stopped_pc_valid = arch_vcpu_pc(vcpu, &vcpu->stopped_pc) == 0;
}

#define STOP_PCS_LISTED 8 /* a long line helps no one: the rest are counted */

/* Called with vm->lock held, by the last vCPU thread. */
static void add_pcs_to_stop_message_locked(struct vm *vm)
{
    GString *msg = g_string_new(vm->stop.message);
    unsigned listed = 0, started = 0;

    g_string_append(msg, " (");
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *vcpu = &vm->vcpus[i];

        if (!vcpu->thread_started || started++ >= STOP_PCS_LISTED)
            continue;
        g_string_append_printf(msg, "%svCPU %u at ", listed ? ", " : "", vcpu->id);
        if (vcpu->stopped_pc_valid)
            g_string_append_printf(msg, "%s %" G_GINT64_MODIFIER "x", ARCH_PC_NAME,
                                   vcpu->stopped_pc);
        else
            g_string_append_printf(msg, "an unknown %s", ARCH_PC_NAME);
        listed++;
    }
    if (listed < started)
        g_string_append_printf(msg, ", %u more", started - listed);
    g_string_append(msg, ")");
    if (listed) {
        g_free(vm->stop.message);
        vm->stop.message = g_string_free(msg, FALSE);
    } else {
        g_string_free(msg, TRUE);
    }
}

void *vcpu_thread(void *opaque)
{
    struct vcpu *vcpu = opaque;
    struct vm *vm = vcpu->vm;
    char name[16];
    sigset_t kick;
    GError *error = NULL;

    g_snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
    pthread_setname_np(pthread_self(), name);
    sigemptyset(&kick);
    sigaddset(&kick, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    if (!vmm_seccomp_enter(VMM_THREAD_VCPU, &error)) {
        vm_stop(vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, "%s", error->message);
        g_error_free(error);
    }

    while (!vm_is_stopping(vm)) {
        int r;

        vcpu_pause_point(vcpu);
        if (vm_is_stopping(vm))
            break;
        r = __vmm_ioctl(vcpu->fd, KVM_RUN, NULL);

        if (r == -EINTR || r == -EAGAIN)
            continue;
        if (r < 0) {
            vm_stop(vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, "KVM_RUN on vCPU %u: %s",
                    vcpu->id, g_strerror(-r));
            break;
        }
        vcpu_handle_exit(vcpu);
    }

    g_mutex_lock(&vm->lock);
    bool outside = stopped_from_outside(vm);
    g_mutex_unlock(&vm->lock);
    if (outside)
        vcpu_note_pc(vcpu);
    g_mutex_lock(&vm->lock);
    bool last = --vm->running_threads == 0;
    if (last && outside)
        add_pcs_to_stop_message_locked(vm);
    g_mutex_unlock(&vm->lock);
    if (last && vm->on_stopped)
        vm->on_stopped(vm, vm->on_stopped_data);
    return NULL;
}
