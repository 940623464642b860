/*
 * A VM's one KVM interrupt routing table (KVM_SET_GSI_ROUTING) and the
 * irqfds bound to it (KVM_IRQFD).
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so every writer must send
 * the routes KVM set up itself (the architecture's defaults: x86_64's
 * IOAPIC and PIC pins for GSIs 0-23, aarch64's vGIC SPIs) along with its
 * own: this module keeps them all, and PCI functions add, change and
 * remove MSI routes through it (and x86_64's Hyper-V test device its SynIC
 * routes, which KVM delivers to a vCPU's SINT). A route's GSI is allocated above the
 * defaults, bounded by what KVM takes (KVM_CAP_IRQ_ROUTING); when none
 * is left the caller gets -ENOSPC and keeps sending its messages with
 * KVM_SIGNAL_MSI.
 *
 * Thread-safe (its lock is a leaf, taken under a device's lock): vCPU
 * threads change routes when the guest writes an MSI-X table or Message
 * Control.
 */
#ifndef VMM_IRQ_ROUTES_H
#define VMM_IRQ_ROUTES_H

#include <glib.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* MSI routes one VM may hold, whatever KVM takes: a few per PCI function. */
#define IRQ_ROUTES_MSI_MAX 128

struct irq_msi_route {
    bool used;
    bool hv_sint;             /* a Hyper-V SynIC route (vp_index, sint), not an MSI */
    uint32_t vp_index, sint;
    uint64_t addr;
    uint32_t data, flags, devid; /* flags: KVM_MSI_VALID_DEVID (aarch64's ITS) or 0 */
};

struct irq_routes {
    GMutex lock;
    int vm_fd;
    bool ready;               /* the defaults are known: routes may be added */
    struct kvm_irq_routing_entry *defaults;
    unsigned nr_defaults;
    uint32_t first_gsi;       /* the MSI routes' GSIs: first_gsi + their index */
    unsigned msi_max;         /* routes that fit (KVM's table, IRQ_ROUTES_MSI_MAX) */
    struct irq_msi_route msi[IRQ_ROUTES_MSI_MAX];
    unsigned nr_msi;
};

/* KVM_SET_GSI_ROUTING and KVM_IRQFD on @vm_fd: 0 or -errno. The ioctls
 * by default; the unit tests put a fake KVM here. */
extern int (*irq_routes_kvm_set)(int vm_fd, const struct kvm_irq_routing *table);
extern int (*irq_routes_kvm_irqfd)(int vm_fd, int fd, uint32_t gsi, bool assign);

void irq_routes_init(struct irq_routes *r);
/* The table KVM has now for @vm_fd: its @n default entries (copied), and
 * @kvm_max, KVM's bound on entries and GSIs (KVM_CAP_IRQ_ROUTING). Routes
 * may be added from then on. False when the defaults leave no room. */
bool irq_routes_start(struct irq_routes *r, int vm_fd, const struct kvm_irq_routing_entry *e,
                      unsigned n, unsigned kvm_max, GError **error);
void irq_routes_clear(struct irq_routes *r);

/* A new MSI route: its GSI, or -ENOSPC when the table is full, -ENODEV
 * before irq_routes_start(), -errno when KVM refused the table (then
 * unchanged). */
int irq_routes_add_msi(struct irq_routes *r, uint64_t addr, uint32_t data, uint32_t flags,
                       uint32_t devid);
/* A new Hyper-V SynIC route (KVM_IRQ_ROUTING_HV_SINT): raising its GSI
 * (KVM_IRQ_LINE) sets SINT @sint of the vCPU whose Hyper-V VP index is
 * @vp_index. The GSI, or -errno as irq_routes_add_msi(). */
int irq_routes_add_hv_sint(struct irq_routes *r, uint32_t vp_index, uint32_t sint);
/* The message of @gsi's MSI route changes (irqfds bound to it follow); 0
 * or -errno (-ENOENT: no MSI route there). */
int irq_routes_update_msi(struct irq_routes *r, uint32_t gsi, uint64_t addr, uint32_t data,
                          uint32_t flags, uint32_t devid);
/* @gsi's route goes (unbind its irqfds first); 0 or -errno. */
int irq_routes_remove(struct irq_routes *r, uint32_t gsi);

/* Binds (@assign) or unbinds eventfd @fd to @gsi: a write to it raises
 * the route's interrupt in KVM, with no userspace on the way. */
int irq_routes_irqfd(struct irq_routes *r, int fd, uint32_t gsi, bool assign);

#endif
