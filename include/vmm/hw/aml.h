/*
 * A device's part of the ACPI tables (x86_64 Linux boots): AML for the
 * DSDT, and the FADT registers it implements. The AML is assembled by
 * hand (ACPI 6.x chapter 20): a few opcodes and PkgLength.
 */
#ifndef VMM_HW_AML_H
#define VMM_HW_AML_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device_acpi {
    GByteArray *dsdt;            /* AML in the DSDT's root scope */
    GByteArray *sb;              /* AML in Scope (\_SB_) */
    uint16_t reset_port;         /* FADT RESET_REG (I/O, 8 bits), 0: none */
    uint8_t reset_value;
    uint16_t sleep_control_port; /* FADT SLEEP_CONTROL_REG / SLEEP_STATUS_REG, 0: none */
    uint16_t sleep_status_port;
    uint16_t pm1_evt_port;       /* FADT PM1a_EVT_BLK (4 ports) and PM1a_CNT_BLK (2), */
    uint16_t pm1_cnt_port;       /* with a FACS for the waking vector; 0: none */
    bool cmos_rtc;               /* a CMOS RTC at the legacy ports (FADT CENTURY 0x32) */
};

#define AML_NAME     0x08
#define AML_SCOPE    0x10
#define AML_BUFFER   0x11
#define AML_PACKAGE  0x12
#define AML_BYTE     0x0a
#define AML_DWORD    0x0c
#define AML_EXT      0x5b
#define AML_DEVICE   0x82

void aml_bytes(GByteArray *a, const void *p, size_t n);
void aml_byte(GByteArray *a, uint8_t b);
/* Wraps @body in a PkgLength (which counts its own bytes), appends it to
 * @a, and frees @body. */
void aml_pkg(GByteArray *a, GByteArray *body);
/* Name (@name, <4 bytes as a DWordConst>), e.g. an EisaId for _HID. */
void aml_name_dword(GByteArray *a, const char *name, const uint8_t bytes[4]);
void aml_name_byte(GByteArray *a, const char *name, uint8_t value);
/* Name (@name, Buffer () { @data }): a resource template for _CRS. */
void aml_name_buffer(GByteArray *a, const char *name, const uint8_t *data, size_t len);
/* Device (@name) { @body }, freeing @body. */
void aml_device(GByteArray *a, const char *name, GByteArray *body);
/* Device (@name) { Name (_HID, @hid) Name (_CRS, ResourceTemplate () {
 * IO (Decode16, @port, @port, 1, @nr_ports) IRQNoFlags () { @irq } }) }:
 * an ISA device at fixed ports with one edge-triggered interrupt (an
 * empty IRQ mask for @irq < 0). @hid: an EisaId's four bytes. */
void aml_isa_device(GByteArray *a, const char *name, const uint8_t hid[4], uint16_t port,
                    uint8_t nr_ports, int irq);

#endif
