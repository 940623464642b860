/* Guest physical memory: host mappings registered as KVM memslots. */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

/* Maps @size bytes of anonymous memory into @mem and registers it with
 * the KVM VM @vm_fd at @gpa; its memslot is its index in mem->regions. */
struct mem_region *guest_mem_map(struct guest_mem *mem, int vm_fd, uint64_t gpa,
                                 uint64_t size, bool readonly, GError **error);
/* Unmaps every region (the VM's memslots go with its fd). */
void guest_mem_unmap(struct guest_mem *mem);

#endif
