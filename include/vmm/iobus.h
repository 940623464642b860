/*
 * One registry for port I/O and MMIO: device models register address
 * ranges with a handler, and vCPU exits are turned into handler calls.
 * Ranges are registered while the VM is built and never change once it
 * runs, so lookups need no lock.
 *
 * Device models' state belongs to their struct device (vmm/device.h).
 * Other per-VM state that hangs off the registry (the panic watch)
 * registers a cleanup here, and iobus_destroy() (from vm_destroy(), once
 * no vCPU thread runs) calls the cleanups, newest first. So it lives
 * exactly as long as the VM, whether it is destroyed, rebuilt
 * (system_reset) or fails half-built.
 */
#ifndef VMM_IOBUS_H
#define VMM_IOBUS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

typedef enum { IOBUS_PIO, IOBUS_MMIO, IOBUS_COUNT } iobus_kind;

/* One prototype for both buses: @offset is relative to the range's base;
 * for reads the handler fills @data[0..len). */
typedef void (*io_handler_fn)(struct vcpu *vcpu, void *opaque, uint64_t offset,
                              uint8_t *data, unsigned len, bool is_write);

struct io_range {
    uint64_t base;
    uint64_t len;
    io_handler_fn handler;
    void *opaque;
    const char *name;
};

struct iobus {
    GArray *ranges[IOBUS_COUNT]; /* of struct io_range, sorted by base */
    uint64_t unclaimed[IOBUS_COUNT];
    GArray *cleanups;            /* struct iobus_cleanup, in registration order */
};

struct iobus_cleanup {
    GDestroyNotify fn;
    void *data;
};

void iobus_init(struct iobus *bus);
/* Runs the cleanups (newest first), then forgets every range. */
void iobus_destroy(struct iobus *bus);
/* @fn(@data) when the registry is destroyed: per-VM state a watcher
 * hangs off the VM. */
void iobus_add_cleanup(struct iobus *bus, GDestroyNotify fn, void *data);
/* Fails if the range is empty, wraps, or overlaps one already registered. */
bool iobus_register(struct iobus *bus, iobus_kind kind, uint64_t base, uint64_t len,
                    io_handler_fn handler, void *opaque, const char *name,
                    GError **error);
const struct io_range *iobus_find(const struct iobus *bus, iobus_kind kind, uint64_t addr);
/* Calls the handler owning @addr. An access nobody claims reads as all
 * ones and is otherwise ignored (counted), as on a real bus. */
void iobus_access(struct iobus *bus, iobus_kind kind, struct vcpu *vcpu, uint64_t addr,
                  uint8_t *data, unsigned len, bool is_write);

#endif
