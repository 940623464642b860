/* Guest physical memory: host mappings registered as KVM memslots. */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

/* Maps @size bytes of anonymous memory into @mem and registers it with
 * the KVM VM @vm_fd at @gpa; its memslot is its index in mem->regions.
 * @shared: a memfd mapped MAP_SHARED instead, its fd kept in the region,
 * for a VM whose devices have a backend in another process (virtio-fs's
 * virtiofsd) that maps guest RAM itself. */
struct mem_region *guest_mem_map(struct guest_mem *mem, int vm_fd, uint64_t gpa,
                                 uint64_t size, bool readonly, bool shared, GError **error);
/* Unmaps every region (the VM's memslots go with its fd). */
void guest_mem_unmap(struct guest_mem *mem);

#endif
