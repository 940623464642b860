/* The PC's CMOS real-time clock (a Motorola MC146818 at ports 0x70-0x71):
 * the date from the host's wall clock, the alarm and its interrupt (ISA
 * IRQ 8, once wired), 114 bytes of CMOS RAM, and its ACPI device
 * (PNP0B00). The alarm is also a wake-up source for S3 (acpi_pm1). */
#ifndef VMM_HW_MC146818_H
#define VMM_HW_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

#define MC146818_INDEX_PORT 0x70
#define MC146818_IRQ        8

extern const struct device_ops mc146818_device;

struct mc146818;

/* When the next alarm (with the alarm interrupt enabled, register B's
 * AIE) comes after @now_us on the host's monotonic clock (GLib's
 * microseconds), into *@at_us; false if no alarm is enabled or none
 * matches within a day. */
bool mc146818_next_alarm(struct mc146818 *rtc, int64_t now_us, int64_t *at_us);

#endif
