/* Guest physical memory: host mappings registered as KVM memslots. */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

struct mem_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
    bool readonly;
};

#define VMM_MAX_MEM_REGIONS 4

/* Maps @size bytes of anonymous memory and registers it at @gpa. */
struct mem_region *vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size,
                                 bool readonly, GError **error);

/* Host address of [gpa, gpa + len), or NULL unless the whole range lies in
 * one region: guest-supplied addresses go through here, never around it. */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
/* The same for one mapping: [base, base + size) at @hva. */
void *gpa_range_hva(uint8_t *hva, uint64_t base, uint64_t size, uint64_t gpa, uint64_t len);

/* Copies @len bytes from @src to guest-physical @gpa (guest_fill: sets
 * them to @byte), refusing a range not wholly inside guest RAM with
 * "@what: N bytes at ADDR lie outside guest RAM". Every loader writes
 * guest RAM through these (src/core/guest_mem.c). */
bool guest_copy_in(struct vm *vm, uint64_t gpa, const void *src, uint64_t len,
                   const char *what, GError **error);
bool guest_fill(struct vm *vm, uint64_t gpa, int byte, uint64_t len, const char *what,
                GError **error);

void vm_free_memory(struct vm *vm);

#endif
