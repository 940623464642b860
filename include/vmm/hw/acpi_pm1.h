/* ACPI's fixed-hardware PM1a event and control blocks (FADT PM1a_EVT_BLK,
 * PM1a_CNT_BLK), for kernels that sleep the legacy way: writing sleep
 * type 1 with SLP_EN to PM1a_CNT is S3 (suspend to RAM, the type QEMU's PC
 * machines give \_S3), which a one-vCPU guest wakes from at its CMOS RTC's
 * alarm (with RTC_EN in PM1a_EN) in real mode at the FACS's waking vector
 * (arch_vcpu_s3_resume()). The table line's base is PM1a_EVT_BLK (4
 * ports: status, enable); PM1a_CNT_BLK follows it (2 ports). */
#ifndef VMM_HW_ACPI_PM1_H
#define VMM_HW_ACPI_PM1_H

#include "vmm/device.h"

#define ACPI_PM1_EVT_PORT 0x620
#define ACPI_PM1_PORTS    6
#define ACPI_S3_SLP_TYP   1

extern const struct device_ops acpi_pm1_device;

#endif
