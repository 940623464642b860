/*
 * The virtio PCI transport (virtio 1.x, "modern", spec section 4.1) that
 * virtio device models embed: a PCI function with the virtio vendor and
 * device IDs, its capabilities (common, notify, ISR and device
 * configuration, all in BAR 0), feature negotiation, the device status
 * state machine, split virtqueues (src/virtio/virtqueue.c), and its
 * interrupts: INTx through the ISR register, or MSI-X once the driver
 * enables it (one vector per queue and one for configuration changes, a
 * table and pending bits in BAR 0), which the VM's in-kernel irqchip
 * takes as KVM_SIGNAL_MSI, or, for an offloaded queue's backend, through
 * an irqfd on the vector's route (vmm/irq_routes.h). MSI-X is offered
 * only where the VM can deliver it (struct device_ctx's msi); elsewhere
 * the function has no such capability and the driver uses INTx.
 *
 * Queue work runs on one worker thread per device, never on a vCPU: a
 * guest's notify write only marks the queue and wakes the worker. With an
 * in-kernel irqchip the notify region is KVM's (KVM_IOEVENTFD, one
 * eventfd per queue, following BAR 0 as the guest moves it), so a kick
 * does not even exit to vmm; where KVM refuses, the write exits and the
 * BAR's handler does the same. The
 * worker calls the model's queue hook with the transport lock held, so
 * the model's queue state needs no lock of its own; a register access
 * from a vCPU waits at most for one queue pass.
 *
 * A model may hand some queues to a backend outside the worker (vhost in
 * the kernel, a vhost-user daemon: struct virtio_pci_offload): their
 * kicks go straight to the backend, and its call eventfds go to KVM as
 * irqfds while their MSI-X vectors are routed; otherwise (INTx, masked,
 * no GSI left) the worker turns them into the queue interrupt.
 *
 * A driver that breaks a queue's rules (vmm/virtqueue.h) gets
 * DEVICE_NEEDS_RESET and a configuration interrupt, and that device does
 * nothing more until it resets it; nothing else in vmm notices.
 */
#ifndef VMM_HW_VIRTIO_PCI_H
#define VMM_HW_VIRTIO_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/hw/pci.h"
#include "vmm/seccomp.h"
#include "vmm/virtqueue.h"

#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_PCI_QUEUE_MAX_SIZE 256
#define VIRTIO_PCI_BAR_SIZE 0x4000
/* Where each structure lies in BAR 0. */
#define VIRTIO_PCI_COMMON_AT  0x0000
#define VIRTIO_PCI_ISR_AT     0x1000
#define VIRTIO_PCI_DEVICE_AT  0x2000
#define VIRTIO_PCI_NOTIFY_AT  0x3000  /* up to VIRTIO_PCI_MSIX_TABLE_AT */
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4
#define VIRTIO_PCI_MSIX_TABLE_AT 0x3800 /* 16 bytes per vector */
#define VIRTIO_PCI_MSIX_PBA_AT   0x3c00 /* pending bits, one per vector */
/* MSI-X vectors: one per queue, and one for configuration changes. */
#define VIRTIO_PCI_MSIX_MAX (VIRTIO_PCI_MAX_QUEUES + 1)
/* Chains virtio_pci_serve takes per pass: then the worker lets register
 * accesses in and comes back, so a guest that keeps its queue full never
 * holds the transport lock. */
#define VIRTIO_PCI_CHAINS_PER_PASS 64

struct virtio_pci;

/* A queue a backend outside the transport's worker serves (vhost in the
 * kernel, a vhost-user daemon): where the driver put it and the two
 * eventfds that replace the worker's handling. */
struct virtio_pci_offload_queue {
    unsigned index;
    uint16_t size;
    uint64_t desc, driver, device;  /* guest-physical */
    /* The same areas in vmm's mapping of guest RAM, checked (sizes, alignment,
     * the device area writable) when the driver enabled the queue. */
    void *desc_hva, *driver_hva, *device_hva;
    int kick_fd;  /* signalled on each driver notify of the queue (KVM's
                     ioeventfd, or the BAR handler where KVM refused one) */
    int call_fd;  /* the backend's interrupt request: bound to the queue's
                     MSI-X vector in KVM (irqfd) while that is routed and
                     unmasked, else the worker raises the queue interrupt
                     when it is signalled */
};

struct virtio_pci_offload {
    uint32_t queues;  /* bit n: queue n is the backend's; the rest stay with queue_notified */
    /* The driver set DRIVER_OK: hand the enabled offloaded queues (@n of
     * them, in index order) to the backend with the features the driver
     * accepted. Worker thread (its seccomp kind: the model's thread_kind),
     * transport lock held; a wait for the backend must be bounded. False:
     * DEVICE_NEEDS_RESET, and @error is logged (once per device). */
    bool (*start)(struct virtio_pci *vp, uint64_t features,
                  const struct virtio_pci_offload_queue *q, unsigned n, GError **error);
    /* After a start that succeeded: the driver reset the device, or the
     * device is going away. The backend stops touching these queues' guest
     * memory before it returns. Worker thread, lock held. */
    void (*stop)(struct virtio_pci *vp);
};

/* A virtio device model's side. */
struct virtio_pci_model {
    const char *name;
    uint16_t device_id;       /* the virtio device ID (3: console, 4: rng, ...) */
    uint32_t class_code;      /* PCI class, subclass, prog-if */
    uint64_t features;        /* device features beyond the transport's */
    unsigned nr_queues;
    uint16_t config_size;     /* bytes of device configuration (vp->config) */
    /* The seccomp list its worker narrows to: what its queue hook needs
     * (0, which is no worker's kind: VMM_THREAD_DEVICE). */
    enum vmm_thread_kind thread_kind;
    /* Queue @q was notified (worker thread, transport lock held). True
     * when the model took every chain the queue held: the transport then
     * asks the driver to kick for the next one and looks again for any
     * that came meanwhile. False when it leaves chains there on purpose
     * (it stopped early and called virtio_pci_kick for another pass, or
     * it has no use for them yet): the driver's kicks stay off. */
    bool (*queue_notified)(struct virtio_pci *vp, unsigned q);
    /* The driver reset the device (transport lock held). */
    void (*reset)(struct virtio_pci *vp);
    /* Queues a backend serves instead of queue_notified; NULL: none. */
    const struct virtio_pci_offload *offload;
};

struct virtio_pci_queue {
    struct virtq vq;
    uint16_t size;            /* what the driver chose (at most the maximum) */
    bool enabled;
    uint64_t desc, driver, device;
};

/* An MSI-X table entry as the guest wrote it (PCI 3.0, 6.8.2.6). */
struct virtio_pci_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct virtio_pci {
    struct pci_function fn;
    const struct virtio_pci_model *model;
    void *opaque;             /* the model's state */
    const struct guest_mem *mem;
    struct console *console;

    GMutex lock;              /* everything below */
    uint32_t device_feature_select, driver_feature_select;
    uint64_t driver_features;
    uint8_t status, config_generation, isr;
    uint16_t queue_select;
    struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];
    uint8_t config[64];
    bool irq_wired;
    struct irq_line irq;
    uint64_t breaks;          /* times the driver broke a queue (the first is logged) */
    /* MSI-X: offered when msix_size is not 0 (the VM signals MSIs). The
     * enable and function mask bits are Message Control's, copied here when
     * the guest writes configuration space; the vectors are the driver's
     * choices in the common configuration (NO_VECTOR: none). */
    unsigned msix_size;
    uint8_t msix_cap;         /* the capability's offset in configuration space */
    uint32_t msi_flags, msi_devid; /* KVM_SIGNAL_MSI's flags and device ID */
    bool msix_enabled, msix_masked;
    /* The command register's bus master bit, copied likewise: without it
     * the function initiates nothing (PCI 3.0, 6.2.2), neither ring nor
     * buffer accesses nor MSI-X messages (memory writes too): kicks wait
     * in pending, messages in the PBA, until the driver sets it. */
    bool bus_master;
    struct virtio_pci_msix_entry msix[VIRTIO_PCI_MSIX_MAX];
    uint32_t msix_pending;    /* the PBA: bit n, vector n fired while masked */
    uint16_t config_vector, queue_vector[VIRTIO_PCI_MAX_QUEUES];
    bool msi_refused;         /* KVM refused a message: logged once */
    /* KVM irq routing, for a function with offloaded queues (NULL: every
     * message goes through KVM_SIGNAL_MSI). Each enabled, unmasked vector
     * has a GSI whose MSI route carries its entry's message, and each
     * offloaded queue whose vector has one binds its call eventfd there
     * (KVM_IRQFD): the backend's signal reaches the guest without vmm.
     * Masking, disabling or changing the vector unbinds it first; the
     * worker then polls the call eventfd again, and a call becomes the
     * vector's pending bit as any other event does. */
    struct irq_routes *routes;
    int msix_gsi[VIRTIO_PCI_MSIX_MAX];      /* -1: the vector has no route */
    struct virtio_pci_msix_entry msix_routed[VIRTIO_PCI_MSIX_MAX]; /* the routes' messages */
    int call_bound[VIRTIO_PCI_MAX_QUEUES];  /* the vector its call_fd is bound to, -1:
                                             * none, the worker polls it (atomic) */
    bool route_failed, irqfd_failed; /* logged once */
    /* What the tests check (said at destroy under $VMM_TEST_IRQFD): how
     * often a call eventfd was bound, and the calls the worker relayed. */
    unsigned irqfd_binds;
    uint64_t relayed_calls;
    bool irqfd_report;
    struct pci_bus *bus;      /* where fn is, once added */
    unsigned slot;

    struct virtq_chain chain; /* the chain a queue pass works on (lock held) */
    int kick_fd;              /* eventfd: the worker's wake-up */
    /* Owned by the bus lock (its config_written hook) after realize. */
    int vm_fd;                /* for KVM_IOEVENTFD; -1: notify writes always exit */
    int queue_fd[VIRTIO_PCI_MAX_QUEUES]; /* eventfds KVM signals on queue n's notify write */
    uint64_t notify_gpa;      /* where they are registered now; 0: nowhere */
    bool ioeventfd_refused;   /* logged once */
    /* Offloaded queues (lock held): the backend's interrupt requests, and
     * what the worker owes it. A driver's reset waits for the worker to
     * stop the backend: until then the status still reads non-zero. */
    int call_fd[VIRTIO_PCI_MAX_QUEUES];
    bool offload_start, offload_reset, offload_running;
    unsigned pending;         /* queues notified since the worker looked (atomic) */
    bool stopping;            /* atomic */
    GThread *worker;
};

/* Asks KVM to signal @fd on a 2-byte MMIO write at @gpa (@assign) or to
 * stop; 0 or -errno. KVM_IOEVENTFD by default; the unit tests put a fake
 * KVM here. */
extern int (*virtio_pci_ioeventfd)(int vm_fd, int fd, uint64_t gpa, bool assign);

/* Sends the message @addr/@data with KVM_SIGNAL_MSI's @flags and device
 * ID @devid (aarch64's ITS needs one); > 0 delivered, 0 the guest blocked
 * it, or -errno. KVM_SIGNAL_MSI by default; the unit tests put a fake here. */
extern int (*virtio_pci_signal_msi)(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags,
                                    uint32_t devid);

/* Sets up the transport for @model in PCI slot @ctx's bus at @slot (the
 * machine line's base) with its INTx line from @ctx, and starts the
 * worker. The model fills vp->config after this. */
bool virtio_pci_realize(struct virtio_pci *vp, const struct virtio_pci_model *model,
                        void *opaque, const struct device *dev, const struct device_ctx *ctx,
                        GError **error);
/* Stops the worker (the VM's vCPUs have stopped) and frees what realize made. */
void virtio_pci_destroy(struct virtio_pci *vp);
/* A device_ops realize and destroy for a model whose whole state is the
 * transport: dev->state is a struct virtio_pci. */
bool virtio_pci_device_realize(struct device *dev, const struct device_ctx *ctx,
                               const struct virtio_pci_model *model, GError **error);
void virtio_pci_device_destroy(struct device *dev);

/* For the model's queue hook (lock held): take the next chain of queue
 * @q, give one back, and interrupt the driver if it asked. A broken queue
 * reads as empty and puts the device in DEVICE_NEEDS_RESET. */
bool virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct virtq_chain *chain);
void virtio_pci_push(struct virtio_pci *vp, unsigned q, const struct virtq_chain *chain,
                     uint32_t written);
void virtio_pci_notify(struct virtio_pci *vp, unsigned q);

/* A queue pass for a model's queue hook (lock held): takes up to
 * VIRTIO_PCI_CHAINS_PER_PASS chains of queue @q, gives each back with the
 * bytes @handle wrote into it, interrupts the driver if it asked, and asks
 * for another pass when it stopped at the limit. The hook's result: true
 * when it took every chain the queue held. */
bool virtio_pci_serve(struct virtio_pci *vp, unsigned q,
                      uint32_t (*handle)(struct virtio_pci *vp, const struct virtq_chain *chain));

/* Marks queue @q notified and wakes the worker: what a guest's notify
 * does, and how a model that stopped a pass early (to let register
 * accesses in) asks for another. */
void virtio_pci_kick(struct virtio_pci *vp, unsigned q);

/* The BAR 0 register file (a vCPU's MMIO access at @offset). */
void virtio_pci_bar_access(struct virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned len,
                           bool is_write);

#endif
