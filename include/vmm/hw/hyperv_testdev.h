/*
 * hyperv-testdev (src/devices/hyperv_testdev.c): the SynIC part of QEMU's
 * `-device hyperv-testdev`, which kvm-unit-tests' hyperv_synic test drives.
 * A machine line with its port as base; realized only when the VM's config
 * asks for it ([vm] hyperv-test-device, the line's DEVICE_HYPERV_TESTDEV
 * flag), on x86_64 kernel boots with [vm] hyperv (KVM's SynIC).
 *
 *   port 0x3000  a 32-bit write of (conn << 24 | cmd << 16 | vcpu << 8 | sint):
 *     cmd 1  create a route to SINT @sint of the vCPU whose Hyper-V VP
 *            index is @vcpu (a GSI in KVM's table, KVM_IRQ_ROUTING_HV_SINT)
 *     cmd 2  destroy that route
 *     cmd 3  raise that SINT through its route
 *   Anything else (QEMU's message and event connections, cmds 4-7; a
 *   SINT or vCPU out of range; a route twice; more routes than the device
 *   keeps) is ignored. Reads return all ones.
 */
#ifndef VMM_HW_HYPERV_TESTDEV_H
#define VMM_HW_HYPERV_TESTDEV_H

#include "vmm/device.h"

#define HYPERV_TESTDEV_PORT 0x3000
#define HYPERV_TESTDEV_SINTS 16       /* a SynIC's SINTs */
#define HYPERV_TESTDEV_MAX_ROUTES 64  /* routes one VM's device keeps at once */

enum {
    HYPERV_TESTDEV_SINT_ROUTE_CREATE = 1,
    HYPERV_TESTDEV_SINT_ROUTE_DESTROY = 2,
    HYPERV_TESTDEV_SINT_ROUTE_SET_SINT = 3,
};

extern const struct device_ops hyperv_testdev_device;

#endif
