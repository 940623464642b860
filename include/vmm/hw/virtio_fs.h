/*
 * virtio-fs over PCI (src/devices/virtio_fs.c): a host folder the guest
 * mounts by its tag (mount -t virtiofs TAG DIR), served by a virtiofsd
 * that vmm starts for it (vmm/hw/virtiofsd.h) and speaks vhost-user to
 * (vmm/vhost_user.h). Both its queues (hiprio and one request queue) are
 * the daemon's: vmm only hands them over when the driver is ready and
 * takes them back when it resets the device.
 */
#ifndef VMM_HW_VIRTIO_FS_H
#define VMM_HW_VIRTIO_FS_H

#include "vmm/device.h"

extern const struct device_ops virtio_fs_device;

/* A machine line's params: &virtio_fs_share_index[n] takes share n. */
extern const unsigned virtio_fs_share_index[VMM_MAX_SHARES];
#define VIRTIO_FS_LINE(slot, irq, n) \
    { &virtio_fs_device, (slot), 0, (irq), DEVICE_BOOT_LINUX, &virtio_fs_share_index[n] }
/* The shares' lines of both machines: PCI slots 11-14, each on its slot's
 * INTA (@inta: the machine's PCI_INTA(slot)); a line without a share
 * stays empty. */
#define VIRTIO_FS_LINES(inta) \
    VIRTIO_FS_LINE(11, inta(11), 0), VIRTIO_FS_LINE(12, inta(12), 1), \
    VIRTIO_FS_LINE(13, inta(13), 2), VIRTIO_FS_LINE(14, inta(14), 3)
G_STATIC_ASSERT(VMM_MAX_SHARES == 4); /* one line each in VIRTIO_FS_LINES */

/* Its device configuration: tag[36] (not NUL-terminated when it fills
 * them), then num_request_queues (le32). */
#define VIRTIO_FS_CONFIG_SIZE 40

#endif
