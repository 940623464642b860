#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/vm.h"

static void vm_kick_locked(struct vm *vm);

/* [console] status-line: a test guest's power-off or reset carries the
 * verdict of its last status line, n = (code << 1) | 1 as kvm-unit-tests
 * prints it, so the status is its code; no line means the test never
 * reported (a failure). Called with vm->lock held. */
static void stop_by_status_line(struct vm *vm)
{
    int64_t n = __atomic_load_n(&vm->status_line, __ATOMIC_ACQUIRE);

    g_clear_pointer(&vm->stop.message, g_free);
    if (n < 0) {
        vm->stop.status = 1;
        vm->stop.message = g_strdup("the guest ended without an \"EXIT: STATUS=n\" console "
                                    "line (status-line is on): status 1");
    } else if ((n >> 1) > VMM_EXIT_GUEST_MAX) {
        vm->stop.status = VMM_EXIT_GUEST_MAX;
        vm->stop.message = g_strdup_printf("guest status line EXIT: STATUS=%" G_GINT64_FORMAT
                                           " gives %" G_GINT64_FORMAT ", above %d (reserved "
                                           "for vmm): reported as %d", n, n >> 1,
                                           VMM_EXIT_GUEST_MAX, VMM_EXIT_GUEST_MAX);
    } else {
        vm->stop.status = n >> 1;
    }
}

static bool vcpu_create(struct vm *vm, unsigned id, GError **error)
{
    struct vcpu *vcpu = &vm->vcpus[id];
    void *run;

    vcpu->vm = vm;
    vcpu->id = id;
    vcpu->fd = vmm_ioctl(vm->fd, KVM_CREATE_VCPU, id, error);
    if (vcpu->fd < 0)
        return false;
    run = mmap(NULL, vm->kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
               vcpu->fd, 0);
    if (run == MAP_FAILED) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM, "mmap of vCPU %u's kvm_run: %s",
                    id, g_strerror(errno));
        return false;
    }
    vcpu->run = run;
    return arch_vcpu_init(vcpu, error);
}

/* The routing table starts from what KVM set up with the irqchip. Where
 * it cannot, PCI functions send every MSI with KVM_SIGNAL_MSI: slower for
 * vhost backends, not wrong, so it is said once and the VM goes on. */
static void routes_start(struct vm *vm)
{
    g_autoptr(GError) err = NULL;
    g_autofree struct kvm_irq_routing_entry *e = NULL;
    int max = kvm_check_cap(vm->fd, KVM_CAP_IRQ_ROUTING);
    unsigned n = 0;

    if (max <= 0) {
        vmm_log("KVM has no irq routing (KVM_CAP_IRQ_ROUTING): MSI-X goes through "
                "KVM_SIGNAL_MSI only");
        return;
    }
    if (!(e = arch_irq_default_routes(vm, &n, &err)) ||
        !irq_routes_start(&vm->irq_routes, vm->fd, e, n, (unsigned)max, &err))
        vmm_log("irq routing: %s; MSI-X goes through KVM_SIGNAL_MSI only", err->message);
}

struct vm *vm_create(struct kvm *kvm, const char *name, uint64_t ram_size,
                     unsigned nr_vcpus, struct console *console, unsigned flags,
                     const struct device_disk *disks, unsigned nr_disks,
                     const struct device_share *shares, unsigned nr_shares,
                     uint64_t vsock_cid,
                     const struct vm_calls_ops *calls_ops, GError **error)
{
    struct vm *vm = g_new0(struct vm, 1);

    vm->kvm = kvm;
    vm->name = g_strdup(name);
    vm->ram_size = ram_size;
    vm->console = console;
    vm->nr_vcpus = nr_vcpus;
    vm->flags = flags;
    vm->disks = disks;
    vm->nr_disks = nr_disks;
    vm->vsock_cid = vsock_cid;
    vm->shares = shares;
    vm->nr_shares = nr_shares;
    vm->status_line = -1;
    vm->vcpus = g_new0(struct vcpu, nr_vcpus);
    for (unsigned i = 0; i < nr_vcpus; i++)
        vm->vcpus[i].fd = -1;
    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    iobus_init(&vm->iobus);
    irq_routes_init(&vm->irq_routes);
    /* Before the arch's set-up: it places the ucall area in the call state. */
    vm->calls_ops = calls_ops;
    if (calls_ops)
        vm->calls = calls_ops->create();

    vm->fd = vmm_ioctl(kvm->fd, KVM_CREATE_VM, 0, error);
    if (vm->fd < 0)
        goto fail;
    vm->mem.ram = guest_mem_map(&vm->mem, vm->fd, arch_ram_base(), ram_size, false,
                                nr_shares > 0, error);
    if (!vm->mem.ram || !arch_vm_init(vm, error) ||
        ((flags & VM_LINUX) && !arch_linux_vm_init(vm, error)))
        goto fail;
    for (unsigned i = 0; i < nr_vcpus; i++)
        if (!vcpu_create(vm, i, error))
            goto fail;
    if (!arch_vm_finalize(vm, error))
        goto fail;
    if (flags & VM_LINUX)
        routes_start(vm);
    vm->disks = NULL; /* the caller's: the devices took copies */
    vm->nr_disks = 0;
    vm->shares = NULL;
    vm->nr_shares = 0;
    return vm;

fail:
    vm_destroy(vm);
    return NULL;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    vm_join(vm);
    arch_vm_destroy(vm);
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *vcpu = &vm->vcpus[i];

        if (vcpu->run)
            munmap(vcpu->run, vm->kvm->vcpu_mmap_size);
        if (vcpu->fd >= 0)
            close(vcpu->fd);
    }
    /* Devices first: a device's worker thread may be in guest RAM (a
     * virtqueue pass) until its destroy stops it. */
    devices_destroy(&vm->devices);
    guest_mem_unmap(&vm->mem);
    if (vm->fd > 0)
        close(vm->fd);
    iobus_destroy(&vm->iobus);
    irq_routes_clear(&vm->irq_routes);
    if (vm->calls_ops)
        vm->calls_ops->destroy(vm->calls);
    g_mutex_clear(&vm->lock);
    g_cond_clear(&vm->cond);
    g_free(vm->stop.message);
    g_free(vm->panic_line);
    g_free(vm->vcpus);
    g_free(vm->name);
    g_free(vm);
}

bool vm_start(struct vm *vm, GError **error)
{
    /* The policy is fixed (and in KVM) before the guest's first instruction. */
    if (vm->calls_ops && !vm->calls_ops->start(vm, error))
        return false;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *vcpu = &vm->vcpus[i];
        pthread_t thread;
        int e;

        /* The kick path reads thread and thread_started under the lock:
         * both are written under it too. Holding it across the create also
         * keeps the new thread from finishing before it is counted. */
        g_mutex_lock(&vm->lock);
        e = pthread_create(&thread, NULL, vcpu_thread, vcpu);
        if (!e) {
            vm->running_threads++;
            vcpu->thread = thread;
            vcpu->thread_started = true;
        }
        g_mutex_unlock(&vm->lock);
        if (e) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                        "cannot start the thread of vCPU %u: %s", i, g_strerror(e));
            vm_stop(vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, NULL);
            return false;
        }
    }
    return true;
}

void vm_stop(struct vm *vm, vm_stop_reason reason, int status, const char *fmt, ...)
{
    g_mutex_lock(&vm->lock);
    if (vm->stop.reason == VM_STOP_NONE) {
        vm->stop.reason = reason;
        vm->stop.status = status;
        /* After a panic banner, the guest's own way out is no success. */
        if (vm->panic_line && (reason == VM_STOP_RESET || reason == VM_STOP_POWEROFF ||
                               reason == VM_STOP_GUEST_EXIT)) {
            vm->stop.reason = VM_STOP_PANIC;
            vm->stop.status = VMM_EXIT_PANIC;
            vm->stop.message = g_strdup_printf("guest kernel panicked: %s", vm->panic_line);
        } else if (fmt) {
            va_list ap;

            va_start(ap, fmt);
            vm->stop.message = g_strdup_vprintf(fmt, ap);
            va_end(ap);
        }
        if (vm->status_from_line && vm->stop.reason != VM_STOP_PANIC &&
            (reason == VM_STOP_RESET || reason == VM_STOP_POWEROFF))
            stop_by_status_line(vm);
        __atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
        vm_kick_locked(vm);
        g_cond_broadcast(&vm->cond);
        /* vCPUs blocked in a host call wait on conditions of their own. */
        for (GSList *l = vm->waits; l; l = l->next)
            vmm_wait_wake(l->data);
    }
    g_mutex_unlock(&vm->lock);
}

/* Makes every vCPU leave KVM_RUN soon (immediate_exit for one about to
 * enter it, the signal for one inside). Called with vm->lock held. */
static void vm_kick_locked(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *vcpu = &vm->vcpus[i];

        if (vcpu->run)
            __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
        if (vcpu->thread_started && !pthread_equal(vcpu->thread, pthread_self()))
            pthread_kill(vcpu->thread, SIGUSR1);
    }
}

bool vm_pause(struct vm *vm, unsigned timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool still = true;

    g_mutex_lock(&vm->lock);
    __atomic_store_n(&vm->paused, 1, __ATOMIC_RELEASE);
    vm_kick_locked(vm);
    /* A thread that has returned is as still as one that waits. */
    while (vm->quiescent < vm->running_threads && !vm_is_stopping(vm)) {
        if (!g_cond_wait_until(&vm->cond, &vm->lock, deadline)) {
            still = vm->quiescent >= vm->running_threads;
            break;
        }
    }
    g_mutex_unlock(&vm->lock);
    if (!still)
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "%s: the vCPUs did not pause within %u ms", vm->name, timeout_ms);
    return still;
}

void vm_resume(struct vm *vm)
{
    g_mutex_lock(&vm->lock);
    __atomic_store_n(&vm->paused, 0, __ATOMIC_RELEASE);
    g_cond_broadcast(&vm->cond);
    g_mutex_unlock(&vm->lock);
}

void vm_blocking_begin(struct vm *vm, struct vmm_wait *wake)
{
    g_mutex_lock(&vm->lock);
    vm->quiescent++;
    if (wake)
        vm->waits = g_slist_prepend(vm->waits, wake);
    g_cond_broadcast(&vm->cond);
    g_mutex_unlock(&vm->lock);
}

void vm_blocking_end(struct vm *vm, struct vmm_wait *wake)
{
    g_mutex_lock(&vm->lock);
    vm->quiescent--;
    if (wake)
        vm->waits = g_slist_remove(vm->waits, wake);
    g_mutex_unlock(&vm->lock);
}

void vm_note_panic(struct vm *vm, const char *line)
{
    g_mutex_lock(&vm->lock);
    if (!vm->panic_line)
        vm->panic_line = g_strdup(line);
    g_mutex_unlock(&vm->lock);
}

void vm_note_status_line(struct vm *vm, uint64_t n)
{
    __atomic_store_n(&vm->status_line, (int64_t)MIN(n, (uint64_t)INT64_MAX), __ATOMIC_RELEASE);
}

void vm_join(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *vcpu = &vm->vcpus[i];
        pthread_t thread;
        bool started;

        /* Forgotten by the kick path before it is joined: a joined
         * thread's ID must never reach pthread_kill(). */
        g_mutex_lock(&vm->lock);
        started = vcpu->thread_started;
        thread = vcpu->thread;
        vcpu->thread_started = false;
        g_mutex_unlock(&vm->lock);
        if (started)
            pthread_join(thread, NULL);
    }
}

void vm_guest_exit(struct vm *vm, unsigned status)
{
    status &= 0xff; /* what a process exit status can carry, as in QEMU */
    if (status > VMM_EXIT_GUEST_MAX && !(vm->flags & VM_STATUS_WHOLE)) {
        vm_stop(vm, VM_STOP_GUEST_EXIT, VMM_EXIT_GUEST_MAX,
                "guest exit status %u is above %d (reserved for vmm): reported as %d",
                status, VMM_EXIT_GUEST_MAX, VMM_EXIT_GUEST_MAX);
        return;
    }
    vm_stop(vm, VM_STOP_GUEST_EXIT, status, NULL);
}
