#include <errno.h>
#include <sys/mman.h>

#include "vmm/error.h"
#include "vmm/vm.h"

struct mem_region *vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size,
                                 bool readonly, GError **error)
{
    struct mem_region *r;
    struct kvm_userspace_memory_region slot;
    void *hva;

    if (vm->nr_mem == VMM_MAX_MEM_REGIONS) {
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
        .slot = vm->nr_mem,
        .flags = readonly ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };
    if (vmm_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot, error) < 0) {
        munmap(hva, size);
        return NULL;
    }
    r = &vm->mem[vm->nr_mem++];
    *r = (struct mem_region){ .gpa = gpa, .size = size, .hva = hva, .readonly = readonly };
    return r;
}

void vm_free_memory(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_mem; i++)
        munmap(vm->mem[i].hva, vm->mem[i].size);
    vm->nr_mem = 0;
    vm->ram = NULL;
}
