#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/kvm.h"

int __vmm_ioctl(int fd, unsigned long request, void *arg)
{
    int r = ioctl(fd, request, arg);

    return r < 0 ? -errno : r;
}

int vmm_ioctl_named(int fd, unsigned long request, const char *name, void *arg,
                    GError **error)
{
    int r = __vmm_ioctl(fd, request, arg);

    if (r < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM, "%s: %s", name, g_strerror(-r));
        return -1;
    }
    return r;
}

int kvm_check_cap(int fd, long cap)
{
    int r = __vmm_ioctl(fd, KVM_CHECK_EXTENSION, (void *)cap);

    return r < 0 ? 0 : r;
}

/* Capabilities vmm relies on everywhere; the architecture code checks its own. */
static const struct { long cap; const char *name; } required_caps[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

bool kvm_open(struct kvm *kvm, GError **error)
{
    const char *path = g_getenv("VMM_KVM_DEVICE");
    int version;

    if (!path)
        path = "/dev/kvm";
    kvm->fd = open(path, O_RDWR | O_CLOEXEC);
    if (kvm->fd < 0) {
        int e = errno;
        g_set_error(error, VMM_ERROR, VMM_ERROR_NO_KVM,
                    "%s: %s: KVM is not available on this host; "
                    "try vmm on the nested test bed: tests/nested/vmm %s run configs/hello.toml",
                    path, g_strerror(e), arch_name);
        return false;
    }
    version = __vmm_ioctl(kvm->fd, KVM_GET_API_VERSION, NULL);
    if (version != KVM_API_VERSION) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_NO_KVM,
                    "%s: KVM API version %d, vmm needs %d", path, version, KVM_API_VERSION);
        goto fail;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(required_caps); i++) {
        if (!kvm_check_cap(kvm->fd, required_caps[i].cap)) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_NO_KVM,
                        "%s: this kernel's KVM lacks %s", path, required_caps[i].name);
            goto fail;
        }
    }
    kvm->vcpu_mmap_size = vmm_ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, NULL, error);
    if (kvm->vcpu_mmap_size < 0)
        goto fail;
    kvm->max_vcpus = kvm_check_cap(kvm->fd, KVM_CAP_MAX_VCPUS);
    if (!kvm->max_vcpus)
        kvm->max_vcpus = kvm_check_cap(kvm->fd, KVM_CAP_NR_VCPUS);
    if (!kvm->max_vcpus)
        kvm->max_vcpus = 4; /* the API's documented minimum */
    return true;

fail:
    close(kvm->fd);
    kvm->fd = -1;
    return false;
}

void kvm_close(struct kvm *kvm)
{
    if (kvm->fd >= 0)
        close(kvm->fd);
    kvm->fd = -1;
}
