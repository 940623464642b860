/*
 * virtio-vsock over PCI (src/devices/virtio_vsock.c, virtio 1.x section
 * 5.10): AF_VSOCK sockets between the guest (its CID from [vsock] cid or
 * --vsock) and the host, served by the host kernel's vhost-vsock. One
 * machine line (VIRTIO_VSOCK_LINE), realized only when the VM has a CID
 * (DEVICE_VSOCK).
 *
 * /dev/vhost-vsock is opened when the VM is built, before any seccomp list
 * or worker sandbox, and the CID claimed there (VHOST_VSOCK_SET_GUEST_CID:
 * a CID another VM holds fails the build, naming it). The receive and
 * transmit queues are the kernel's once the driver sets DRIVER_OK (the
 * transport's offload hook: their rings, kick and call eventfds go to
 * vhost); the event queue stays with the transport's worker, which keeps
 * the driver's buffers (vmm sends no events). A driver reset or the
 * device's end stops vhost (VHOST_VSOCK_SET_RUNNING 0) before the rings
 * can change.
 */
#ifndef VMM_HW_VIRTIO_VSOCK_H
#define VMM_HW_VIRTIO_VSOCK_H

#include <stdint.h>

#include "vmm/device.h"

extern const struct device_ops virtio_vsock_device;

#define VIRTIO_VSOCK_LINE(slot, irq) \
    { &virtio_vsock_device, (slot), 0, (irq), DEVICE_BOOT_LINUX | DEVICE_VSOCK }

/* What the device opens (a test points it elsewhere) and how it talks to
 * it: ioctl(2), returning the result or -errno (a test fakes vhost). */
extern const char *virtio_vsock_dev_path;
extern int (*virtio_vsock_ioctl)(int fd, unsigned long request, void *arg);

#endif
