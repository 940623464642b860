/*
 * A virtual machine: its KVM handle, memory, I/O registry, vCPUs, and the
 * one record of why and how it stopped.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/arch.h"
#include "vmm/device.h"
#include "vmm/iobus.h"
#include "vmm/irq_routes.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/vm-stop.h"
#include "vmm/wait.h"

struct console;
struct vm;

/*
 * The guest-call layer (src/calls/) as core sees it: its per-VM state is
 * opaque here (struct vm_calls, vmm/calls.h), and these hooks, given to
 * vm_create() by whoever builds the VM (vm_build: &vm_calls_ops), are the
 * only way core reaches that layer. The calls themselves arrive through
 * the arch exit handlers and the ucall doorbell, which find the state at
 * vcpu->vm->calls.
 */
struct vm_calls;
struct vm_calls_ops {
    struct vm_calls *(*create)(void);             /* in vm_create(), before the arch's set-up */
    bool (*start)(struct vm *vm, GError **error); /* in vm_start(), before any vCPU runs */
    void (*destroy)(struct vm_calls *calls);      /* in vm_destroy(), once no vCPU runs */
};

struct vcpu {
    struct vm *vm;
    unsigned id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_started;
    /* Where the guest was when a timeout or a signal stopped it (the
     * vCPU thread's last look, for the stop's message). */
    bool stopped_pc_valid;
    uint64_t stopped_pc;
    struct arch_vcpu arch;
};

/* vm_create() flags. */
#define VM_LINUX 0x1 /* a Linux boot: in-kernel irqchip, the devices Linux needs */
#define VM_PCI_TESTDEV 0x2 /* [vm] pci-test-device: the machine's pci-testdev line */
/* --host-root: the exit device's status is the guest command's, passed on
 * whole (0-255) as a shell passes its command's, not capped at 119. */
#define VM_STATUS_WHOLE 0x4
#define VM_PC_TESTDEV 0x8  /* [vm] pc-test-device: the machine's pc-testdev line */
/* aarch64 ([vm] gic-version, mte; the config refuses them elsewhere): the
 * GIC asked for (neither: GICv3, else GICv2, as the host's KVM can), and
 * memory tagging. */
#define VM_GIC_V2 0x10
#define VM_GIC_V3 0x20
#define VM_MTE 0x40
#define VM_NO_PIT 0x80 /* x86_64 [vm] pit = false: no in-kernel PIT */
/* x86_64 ([vm] hyperv): KVM's Hyper-V CPUID leaves and SynIC; vmcall is
 * then KVM's (and Hyper-V's), not vmm's call conduit. */
#define VM_HYPERV 0x100
#define VM_HYPERV_TESTDEV 0x200 /* [vm] hyperv-test-device: the machine's hyperv-testdev line */

struct vm {
    struct kvm *kvm;
    int fd;
    char *name;
    uint64_t id;             /* the manager's number for it (0 under vmm run) */
    uint64_t ram_size;
    unsigned flags;          /* VM_LINUX, VM_PCI_TESTDEV, ... above */

    struct guest_mem mem;    /* what loaders, call handlers and devices are handed */

    struct iobus iobus;
    struct device_set devices;   /* the machine's, destroyed with the VM */
    /* KVM's interrupt routing table: the arch's defaults and the PCI
     * functions' MSI routes (Linux boots, from vm_create()'s end). */
    struct irq_routes irq_routes;
    /* vm_create()'s disks, for the devices it realizes; NULL afterwards. */
    const struct device_disk *disks;
    unsigned nr_disks;
    uint64_t vsock_cid;          /* its virtio-vsock's CID; 0: no such device */
    const struct device_share *shares; /* the same for its shares */
    unsigned nr_shares;
    struct console *console;

    unsigned nr_vcpus;
    struct vcpu *vcpus;

    /* Guest calls: policy, counters, ucall area, the manager's hooks (see
     * struct vm_calls_ops above). NULL (both) only in fakes without KVM. */
    struct vm_calls *calls;
    const struct vm_calls_ops *calls_ops;

    /* Stop state: the first vm_stop() wins; the others are ignored. */
    GMutex lock;
    GCond cond;
    int stopping;            /* atomic: read on every exit */
    struct vm_stop stop;
    unsigned running_threads;
    /* Pause (the control socket's stop/cont): vCPU threads wait on @cond
     * while @paused, outside KVM_RUN; @quiescent counts the threads that
     * are not in or about to enter KVM_RUN (paused, parked, or blocked in
     * a host call), so vm_pause() knows when the guest is really still. */
    int paused;              /* atomic */
    unsigned quiescent;
    GSList *waits;           /* struct vmm_wait *: blocked vCPUs' waits, woken by a stop */
    void (*on_stopped)(struct vm *vm, void *data); /* from the last vCPU thread */
    void *on_stopped_data;
    char *panic_line;        /* the guest's panic banner, once seen (under lock) */
    /* [console] status-line: a power-off or reset ends the VM with the
     * last status line's n >> 1, or 1 when the guest printed none. */
    bool status_from_line;
    int64_t status_line;     /* atomic: that line's n; -1 before one is seen */

    struct arch_vm arch;
};

/* Creates the VM, its RAM and vCPUs, and the architecture's devices;
 * nothing runs yet and nothing is loaded (the boot layer, vmm/boot.h,
 * builds a VM from a config). @calls_ops makes the VM's call state first:
 * the architecture's set-up places the ucall area in it. @disks (up to
 * VMM_MAX_DISKS, Linux boots only) back its virtio-blk devices, which
 * open them now; @shares (up to VMM_MAX_SHARES) its virtio-fs devices,
 * which start their daemons now, and with any share guest RAM is a memfd
 * the daemons map; a @vsock_cid (not 0) gives it a virtio-vsock device with
 * that CID, which opens /dev/vhost-vsock and claims the CID now. */
struct vm *vm_create(struct kvm *kvm, const char *name, uint64_t ram_size,
                     unsigned nr_vcpus, struct console *console, unsigned flags,
                     const struct device_disk *disks, unsigned nr_disks,
                     const struct device_share *shares, unsigned nr_shares,
                     uint64_t vsock_cid,
                     const struct vm_calls_ops *calls_ops, GError **error);
void vm_destroy(struct vm *vm);

/* Lets the calls layer fix the policy (and give it to KVM), then starts
 * one thread per vCPU. */
bool vm_start(struct vm *vm, GError **error);

/* Asks every vCPU to stop; the first call decides the outcome.
 * Safe from any thread. @fmt may be NULL. */
void vm_stop(struct vm *vm, vm_stop_reason reason, int status, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* The guest chose its exit status (0-255; above 119 is reported as 119
 * unless the VM has VM_STATUS_WHOLE). */
void vm_guest_exit(struct vm *vm, unsigned status);
static inline bool vm_is_stopping(struct vm *vm)
{
    return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE);
}
/* Holds every vCPU outside KVM_RUN: false (with the reason) when they
 * are not all still within @timeout_ms; they stay asked to pause. */
bool vm_pause(struct vm *vm, unsigned timeout_ms, GError **error);
/* Lets paused vCPUs run again. */
void vm_resume(struct vm *vm);
/* A vCPU thread of @vm waits on @wake for something outside KVM_RUN (a host
 * call): it counts as still for vm_pause() meanwhile, and a stop of @vm
 * wakes @wake (NULL: nothing to wake). */
void vm_blocking_begin(struct vm *vm, struct vmm_wait *wake);
void vm_blocking_end(struct vm *vm, struct vmm_wait *wake);
/* The guest kernel printed its panic banner @line: from now on a reset,
 * power-off or guest exit ends the VM as a panic. */
void vm_note_panic(struct vm *vm, const char *line);
/* The guest printed the status line "EXIT: STATUS=@n" (vmm/console_status.h):
 * with @status_from_line, its power-off or reset reports it. Lock-free: it
 * runs on the console's write path. */
void vm_note_status_line(struct vm *vm, uint64_t n);
/* Blocks until every vCPU thread has returned. */
void vm_join(struct vm *vm);

/* Ends the VM because of a fatal exit on @vcpu, with its registers. */
void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The vCPU thread body (vcpu.c). */
void *vcpu_thread(void *opaque);

/* Installs the signal used to kick vCPUs out of KVM_RUN. */
void vcpu_kick_init(void);

#endif
