/* An Arm PL031 real-time clock: seconds from the host's wall clock, the
 * match register and its interrupt (a GIC SPI, once wired), and its
 * device-tree node. */
#ifndef VMM_HW_PL031_H
#define VMM_HW_PL031_H

#include "vmm/device.h"

extern const struct device_ops pl031_device;

#endif
