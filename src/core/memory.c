#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"

struct mem_region *guest_mem_map(struct guest_mem *mem, int vm_fd, uint64_t gpa,
                                 uint64_t size, bool readonly, bool shared, GError **error)
{
    struct mem_region *r;
    struct kvm_userspace_memory_region slot;
    void *hva;
    int fd = -1;

    if (mem->nr == VMM_MAX_MEM_REGIONS) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "too many memory regions");
        return NULL;
    }
    /* NORESERVE: guest RAM is touched lazily; a 4 GiB guest that uses
     * 10 MiB costs 10 MiB. */
    if (shared) {
        /* A memfd: pages are still taken only when touched (shmem), and
         * a daemon maps the same pages from the fd vmm passes it. */
        fd = memfd_create("vmm-guest-ram", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, size) < 0) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                        "cannot make %" G_GUINT64_FORMAT " MiB of shared guest memory: %s",
                        size >> 20, g_strerror(errno));
            if (fd >= 0)
                close(fd);
            return NULL;
        }
    }
    hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
               (shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS) | MAP_NORESERVE, fd, 0);
    if (hva == MAP_FAILED) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot map %" G_GUINT64_FORMAT " MiB of guest memory: %s",
                    size >> 20, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    /* Guest RAM stays out of core dumps: it is the guest's data (secrets
     * included), and gigabytes of it would bury vmm's own state. */
    if (madvise(hva, size, MADV_DONTDUMP) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot exclude guest memory from core dumps: %s", g_strerror(errno));
        munmap(hva, size);
        if (fd >= 0)
            close(fd);
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
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    r = &mem->regions[mem->nr++];
    *r = (struct mem_region){ .gpa = gpa, .size = size, .hva = hva, .readonly = readonly,
                              .shared = shared, .fd = fd };
    return r;
}

void guest_mem_unmap(struct guest_mem *mem)
{
    for (unsigned i = 0; i < mem->nr; i++) {
        munmap(mem->regions[i].hva, mem->regions[i].size);
        if (mem->regions[i].shared)
            close(mem->regions[i].fd);
    }
    mem->nr = 0;
    mem->ram = NULL;
}
