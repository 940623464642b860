/* The ACPI sleep control register of a hardware-reduced ACPI machine
 * (FADT SLEEP_CONTROL_REG, at the table line's base; SLEEP_STATUS_REG
 * next to it): writing sleep type 5 (S5) with SLP_EN is how an ACPI
 * kernel powers off, and the VM ends with status 0. */
#ifndef VMM_HW_ACPI_SLEEP_H
#define VMM_HW_ACPI_SLEEP_H

#include "vmm/device.h"

#define ACPI_SLEEP_CONTROL_PORT 0x600  /* 1 byte */
#define ACPI_SLEEP_STATUS_PORT  0x601  /* 1 byte */
#define ACPI_S5_SLP_TYP         5      /* the DSDT's \_S5 package says so */

extern const struct device_ops acpi_sleep_device;

#endif
