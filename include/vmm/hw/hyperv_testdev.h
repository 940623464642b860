/*
 * hyperv-testdev (src/devices/hyperv_testdev.c): QEMU's `-device
 * hyperv-testdev`, which kvm-unit-tests' hyperv_synic and
 * hyperv_connections tests drive.
 * A machine line with its port as base; realized only when the VM's config
 * asks for it ([vm] hyperv-test-device, the line's DEVICE_HYPERV_TESTDEV
 * flag), on x86_64 kernel boots with [vm] hyperv (KVM's SynIC).
 *
 *   port 0x3000  a 32-bit write of (conn << 24 | cmd << 16 | vcpu << 8 | sint):
 *     cmd 1  create a route to SINT @sint of the vCPU whose Hyper-V VP
 *            index is @vcpu (a GSI in KVM's table, KVM_IRQ_ROUTING_HV_SINT)
 *     cmd 2  destroy that route
 *     cmd 3  raise that SINT through its route
 *     cmd 4  create message connection @conn: HvPostMessage to it puts the
 *            message in @vcpu's SIMP slot @sint and raises the SINT
 *     cmd 5  destroy message connection @conn
 *     cmd 6  create event connection @conn: HvSignalEvent to it sets flag
 *            @conn in @vcpu's SIEFP slot @sint, raising the SINT when the
 *            flag was clear
 *     cmd 7  destroy event connection @conn
 *   Anything else (a SINT or vCPU out of range; a route or connection
 *   twice; more than the device keeps) is ignored. Reads return all ones.
 *   The connections see the guest's SynIC MSR writes and its hypercalls
 *   through hyperv_testdev_synic() and hyperv_testdev_hcall(), which the
 *   architecture calls on KVM_EXIT_HYPERV.
 */
#ifndef VMM_HW_HYPERV_TESTDEV_H
#define VMM_HW_HYPERV_TESTDEV_H

#include "vmm/device.h"

#define HYPERV_TESTDEV_PORT 0x3000
#define HYPERV_TESTDEV_SINTS 16       /* a SynIC's SINTs */
#define HYPERV_TESTDEV_MAX_ROUTES 64  /* routes one VM's device keeps at once */
#define HYPERV_TESTDEV_MAX_CONNS 64   /* event connections (message ones: 8) */

enum {
    HYPERV_TESTDEV_SINT_ROUTE_CREATE = 1,
    HYPERV_TESTDEV_SINT_ROUTE_DESTROY = 2,
    HYPERV_TESTDEV_SINT_ROUTE_SET_SINT = 3,
    HYPERV_TESTDEV_MSG_CONN_CREATE = 4,
    HYPERV_TESTDEV_MSG_CONN_DESTROY = 5,
    HYPERV_TESTDEV_EVT_CONN_CREATE = 6,
    HYPERV_TESTDEV_EVT_CONN_DESTROY = 7,
};

extern const struct device_ops hyperv_testdev_device;

struct hyperv_testdev; /* a VM's: devices_state_of(set, &hyperv_testdev_device) */
/* KVM_EXIT_HYPERV_SYNIC on the vCPU with VP index @vp (@msr: the SynIC MSR
 * written): its SynIC's control and page MSRs now; a held message for it
 * may go in. (KVM makes no exit on an EOM: the device's worker learns of
 * those from KVM's ack of the route.) */
void hyperv_testdev_synic(struct hyperv_testdev *t, unsigned vp, uint32_t msr,
                          uint64_t control, uint64_t evt_page, uint64_t msg_page);
/* KVM_EXIT_HYPERV_HCALL: true, with Hyper-V's status in @status, when the
 * call (@input: the code and flags; @param: the input's address, or its
 * value for a fast call) is one the device answers. */
bool hyperv_testdev_hcall(struct hyperv_testdev *t, uint64_t input, uint64_t param,
                          uint64_t *status);

#endif
