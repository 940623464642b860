#include <errno.h>
#include <sys/mman.h>

#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

struct mem_region *guest_mem_map(struct guest_mem *mem, int vm_fd, uint64_t gpa,
                                 uint64_t size, bool readonly, GError **error)
{
    struct mem_region *r;
    struct kvm_userspace_memory_region slot;
    void *hva;

    if (mem->nr == VMM_MAX_MEM_REGIONS) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "too many memory regions");
        return NULL;
    }
    /* NORESERVE: guest RAM is touched lazily; a 4 GiB guest that uses
     * 10 MiB costs 10 MiB. */
    hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (hva == MAP_FAILED) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot map %" G_GUINT64_FORMAT " MiB of guest memory: %s",
                    size >> 20, g_strerror(errno));
        return NULL;
    }
    /* Guest RAM stays out of core dumps: it is the guest's data (secrets
     * included), and gigabytes of it would bury vmm's own state. */
    if (madvise(hva, size, MADV_DONTDUMP) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot exclude guest memory from core dumps: %s", g_strerror(errno));
        munmap(hva, size);
        return NULL;
    }
    slot = (struct kvm_userspace_memory_region){
        .slot = mem->nr,
        .flags = readonly ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };
    if (vmm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot, error) < 0) {
        munmap(hva, size);
        return NULL;
    }
    r = &mem->regions[mem->nr++];
    *r = (struct mem_region){ .gpa = gpa, .size = size, .hva = hva, .readonly = readonly };
    return r;
}

void guest_mem_unmap(struct guest_mem *mem)
{
    for (unsigned i = 0; i < mem->nr; i++)
        munmap(mem->regions[i].hva, mem->regions[i].size);
    mem->nr = 0;
    mem->ram = NULL;
}
