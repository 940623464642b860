/*
 * A PCI bus (bus 0 only) and the functions on it: each function's
 * configuration space with its read-only and writable bits, memory and
 * I/O BARs the guest may size and move, and a capability list. The host
 * bridge (pci_host.c) reaches it through its configuration mechanisms and
 * sends it every access to the bus's memory window and I/O window; the
 * bus gives each access to the BAR that decodes it now, so a guest that
 * moves a BAR (as Linux does on arm64, where nothing assigned them before
 * it) is served at the new address and at no other. Pure (no KVM): the
 * unit tests drive it.
 */
#ifndef VMM_HW_PCI_H
#define VMM_HW_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/iobus.h"

#define PCI_SLOTS 32
#define PCI_CONFIG_SIZE 256     /* conventional space; extended space reads as zero */
#define PCI_BARS 6

/* Configuration-space offsets and bits used here (PCI Local Bus 3.0). */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_COMMAND_IO      0x1
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER   0x0d
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_BAR_IO_SPACE    0x1     /* a BAR's bit 0: I/O, not memory */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_CLASS_BRIDGE_HOST 0x060000

struct pci_function;

struct pci_bar {
    uint64_t size;              /* a power of two (memory: 4 KiB or more, I/O:
                                 * 4 to 256 bytes); 0: no BAR */
    io_handler_fn handler;      /* offset relative to the BAR */
    void *opaque;
    bool io;                    /* in the I/O space, not memory */
};

struct pci_function {
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE]; /* the bits a guest may write */
    struct pci_bar bars[PCI_BARS];
    uint8_t next_cap;               /* where the next capability goes */
    uint8_t *last_cap_next;         /* the "next" byte to point at it */
    const char *name;
    /* After the guest wrote [offset, offset + len) of the configuration
     * space (under the bus lock): e.g. MSI-X enabled or a BAR moved. */
    void (*config_written)(struct pci_function *fn, unsigned offset, unsigned len);
    void *opaque;
};

struct pci_bus {
    GMutex lock;                    /* configuration space and BAR decoding */
    struct pci_function *slots[PCI_SLOTS];
    uint64_t window_base, window_size; /* the memory window BARs live in */
    uint64_t next_bar;              /* the next free address for a new BAR */
    /* The I/O window I/O BARs live in (bus addresses: ports); size 0 for
     * none, and then a function with an I/O BAR cannot join the bus. */
    uint32_t io_base, io_size;
    uint32_t next_io;               /* the next free port for a new I/O BAR */
    uint32_t conf1_address;         /* the 0xcf8 latch */
};

/* A type-0 function: IDs, class (24 bits: class, subclass, prog-if). */
void pci_function_init(struct pci_function *fn, const char *name, uint16_t vendor,
                       uint16_t device, uint32_t class_code, uint16_t subsys_vendor,
                       uint16_t subsys_id);
/* A 32-bit memory BAR @index of @size bytes served by @handler. */
void pci_function_add_bar(struct pci_function *fn, unsigned index, uint64_t size,
                          io_handler_fn handler, void *opaque);
/* An I/O BAR @index of @size bytes (4 to 256, a power of two) served by
 * @handler; the function's command register then takes I/O decoding. */
void pci_function_add_io_bar(struct pci_function *fn, unsigned index, uint32_t size,
                             io_handler_fn handler, void *opaque);
/* Appends a capability of @len bytes (ID and next pointer included) to
 * the list and returns its offset (0 when it does not fit); the caller
 * fills the rest and marks writable bits in fn->wmask. */
uint8_t pci_function_add_cap(struct pci_function *fn, uint8_t id, unsigned len);
/* The address a memory BAR decodes now, or 0 while memory decoding is off
 * (and for an I/O BAR). */
uint64_t pci_function_bar_address(const struct pci_function *fn, unsigned index);
/* Whether an I/O BAR decodes now (I/O decoding on), and its first port. */
bool pci_function_io_bar_port(const struct pci_function *fn, unsigned index, uint32_t *port);

void pci_bus_init(struct pci_bus *bus, uint64_t window_base, uint64_t window_size);
/* Gives the bus an I/O window: ports [@base, @base + @size) of its I/O
 * space (before any function with an I/O BAR joins). */
void pci_bus_set_io_window(struct pci_bus *bus, uint32_t base, uint32_t size);
void pci_bus_destroy(struct pci_bus *bus);
/* Puts @fn in slot @want (or, when @want is -1, the first free one; its
 * number in *@slot) and gives its BARs addresses in the windows (a guest
 * may move them). */
bool pci_bus_add(struct pci_bus *bus, struct pci_function *fn, int want, unsigned *slot,
                 GError **error);

/* Takes the function in @slot off the bus (its device is going away). */
void pci_bus_remove(struct pci_bus *bus, unsigned slot);
/* A configuration access to bus 0, device @slot, function @func at
 * @offset (0..4095), @len 1, 2 or 4 bytes, naturally aligned; what no
 * function answers reads as all ones. */
void pci_bus_config(struct pci_bus *bus, unsigned busnr, unsigned slot, unsigned func,
                    unsigned offset, uint8_t *data, unsigned len, bool is_write);
/* An access to the memory window at @addr (a guest-physical address):
 * the BAR that decodes it gets it; otherwise reads are all ones. */
void pci_bus_window_access(struct pci_bus *bus, struct vcpu *vcpu, uint64_t addr,
                           uint8_t *data, unsigned len, bool is_write);
/* An access to the I/O space at @port (a bus address): the I/O BAR that
 * decodes it gets it; otherwise reads are all ones. */
void pci_bus_io_access(struct pci_bus *bus, struct vcpu *vcpu, uint32_t port, uint8_t *data,
                       unsigned len, bool is_write);

#endif
