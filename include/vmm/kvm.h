/*
 * KVM ioctl wrappers, in two tiers as the KVM selftests have them:
 * __vmm_ioctl() returns the raw result or -errno, for hot paths and for
 * callers that expect some failures; vmm_ioctl() names the ioctl in a
 * GError, for everything a user should read about.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <glib.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

int __vmm_ioctl(int fd, unsigned long request, void *arg);

/* Returns the ioctl's non-negative result, or -1 with @error set to
 * "<IOCTL_NAME>: <strerror>". */
int vmm_ioctl_named(int fd, unsigned long request, const char *name, void *arg,
                    GError **error);
#define vmm_ioctl(fd, request, arg, error) \
    vmm_ioctl_named((fd), (request), #request, (void *)(uintptr_t)(arg), (error))

/* The system-wide /dev/kvm handle and what it offers. */
struct kvm {
    int fd;
    int vcpu_mmap_size;
    unsigned max_vcpus;
};

/* Opens /dev/kvm (or $VMM_KVM_DEVICE) and checks the API version and the
 * capabilities vmm cannot run without. VMM_ERROR_NO_KVM when the device is
 * missing or unusable. */
bool kvm_open(struct kvm *kvm, GError **error);
void kvm_close(struct kvm *kvm);
/* KVM_CHECK_EXTENSION on @fd (the system or a VM fd): 0 when absent. */
int kvm_check_cap(int fd, long cap);

#endif
