/*
 * Translating guest-physical ranges to host addresses, and the checked
 * copies every loader makes into guest RAM. Pure (no KVM), so the loader
 * fuzzer runs it over a fake RAM buffer.
 */
#include <string.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"

void *gpa_range_hva(uint8_t *hva, uint64_t base, uint64_t size, uint64_t gpa, uint64_t len)
{
    /* Written so that no sum can overflow on hostile input. */
    if (gpa >= base && gpa - base <= size && len <= size - (gpa - base))
        return hva + (gpa - base);
    return NULL;
}

void *gpa_to_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < mem->nr; i++) {
        const struct mem_region *r = &mem->regions[i];
        void *p = gpa_range_hva(r->hva, r->gpa, r->size, gpa, len);

        if (p)
            return p;
    }
    return NULL;
}

void *gpa_to_hva_writable(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < mem->nr; i++) {
        const struct mem_region *r = &mem->regions[i];
        void *p;

        if (r->readonly)
            continue;
        p = gpa_range_hva(r->hva, r->gpa, r->size, gpa, len);
        if (p)
            return p;
    }
    return NULL;
}

static void *guest_range(struct guest_mem *mem, uint64_t gpa, uint64_t len, const char *what,
                         GError **error)
{
    void *p = gpa_to_hva(mem, gpa, len);

    if (!p)
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: %" G_GUINT64_FORMAT " bytes at %#" G_GINT64_MODIFIER "x lie outside "
                    "guest RAM", what, len, gpa);
    return p;
}

bool guest_copy_in(struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len,
                   const char *what, GError **error)
{
    void *dst = guest_range(mem, gpa, len, what, error);

    if (dst && len)
        memcpy(dst, src, len);
    return dst != NULL;
}

bool guest_fill(struct guest_mem *mem, uint64_t gpa, int byte, uint64_t len, const char *what,
                GError **error)
{
    void *dst = guest_range(mem, gpa, len, what, error);

    if (dst && len)
        memset(dst, byte, len);
    return dst != NULL;
}
