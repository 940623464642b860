/*
 * A VM's guest-physical memory as host mappings: its regions, the one
 * GPA-to-host translation every guest-supplied address goes through, and
 * the checked copies loaders make. Pure (no KVM): loaders, call handlers
 * and devices are handed a struct guest_mem, never the whole VM, and the
 * fuzzers run them over a fake RAM buffer. memory.c maps the regions and
 * registers them with KVM.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct mem_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
    bool readonly;
    bool shared;          /* a memfd's mapping (MAP_SHARED) that another process can map */
    int fd;               /* that memfd, while @shared (vhost-user's SET_MEM_TABLE) */
};

#define VMM_MAX_MEM_REGIONS 4

struct guest_mem {
    struct mem_region regions[VMM_MAX_MEM_REGIONS];
    unsigned nr;
    struct mem_region *ram;  /* the guest's RAM (a region above; NULL before it is mapped) */
};

/* Host address of [gpa, gpa + len), or NULL unless the whole range lies in
 * one region: guest-supplied addresses go through here, never around it. */
void *gpa_to_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* The same, for a range the host will write: never in a read-only region
 * (mapped without PROT_WRITE, so a host write there would fault). */
void *gpa_to_hva_writable(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* The same for one mapping: [base, base + size) at @hva. */
void *gpa_range_hva(uint8_t *hva, uint64_t base, uint64_t size, uint64_t gpa, uint64_t len);

/* Copies @len bytes from @src to guest-physical @gpa (guest_fill: sets
 * them to @byte), refusing a range not wholly inside guest RAM with
 * "@what: N bytes at ADDR lie outside guest RAM". Every loader writes
 * guest RAM through these. */
bool guest_copy_in(struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len,
                   const char *what, GError **error);
bool guest_fill(struct guest_mem *mem, uint64_t gpa, int byte, uint64_t len, const char *what,
                GError **error);

#endif
