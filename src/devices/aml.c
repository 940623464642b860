/* AML byte helpers (vmm/hw/aml.h). */
#include "vmm/hw/aml.h"

void aml_bytes(GByteArray *a, const void *p, size_t n)
{
    g_byte_array_append(a, p, n);
}

void aml_byte(GByteArray *a, uint8_t b)
{
    g_byte_array_append(a, &b, 1);
}

void aml_pkg(GByteArray *a, GByteArray *body)
{
    /* PkgLength counts its own bytes: 1 byte up to 63, then a lead byte
     * with the low nibble and one or two more bytes (ACPI 6.x 20.2.4). */
    size_t len = body->len + 1;

    if (len < 0x40) {
        aml_byte(a, len);
    } else if (len + 1 < 0x1000) {
        len++;
        aml_byte(a, 0x40 | (len & 0xf));
        aml_byte(a, len >> 4);
    } else {
        len += 2;
        g_assert(len < 0x100000);
        aml_byte(a, 0x80 | (len & 0xf));
        aml_byte(a, (len >> 4) & 0xff);
        aml_byte(a, len >> 12);
    }
    aml_bytes(a, body->data, body->len);
    g_byte_array_unref(body);
}

void aml_name_dword(GByteArray *a, const char *name, const uint8_t bytes[4])
{
    aml_byte(a, AML_NAME);
    aml_bytes(a, name, 4);
    aml_byte(a, AML_DWORD);
    aml_bytes(a, bytes, 4);
}

void aml_name_byte(GByteArray *a, const char *name, uint8_t value)
{
    aml_byte(a, AML_NAME);
    aml_bytes(a, name, 4);
    aml_byte(a, AML_BYTE);
    aml_byte(a, value);
}

void aml_name_buffer(GByteArray *a, const char *name, const uint8_t *data, size_t len)
{
    GByteArray *buf = g_byte_array_new();

    g_assert(len <= 0xff);
    aml_byte(a, AML_NAME);
    aml_bytes(a, name, 4);
    aml_byte(a, AML_BUFFER);
    aml_byte(buf, AML_BYTE);
    aml_byte(buf, len);
    aml_bytes(buf, data, len);
    aml_pkg(a, buf);
}

void aml_isa_device(GByteArray *a, const char *name, const uint8_t hid[4], uint16_t port,
                    uint8_t nr_ports, int irq)
{
    uint16_t irqs = irq >= 0 ? 1u << irq : 0;
    const uint8_t crs[] = {
        0x47, 0x01, port & 0xff, port >> 8, port & 0xff, port >> 8, 0x01, nr_ports, /* IO */
        0x22, irqs & 0xff, irqs >> 8,                    /* IRQNoFlags: edge, high */
        0x79, 0x00,                                      /* end tag */
    };
    GByteArray *body = g_byte_array_new();

    aml_name_dword(body, "_HID", hid);
    aml_name_buffer(body, "_CRS", crs, sizeof(crs));
    aml_device(a, name, body);
}

void aml_device(GByteArray *a, const char *name, GByteArray *body)
{
    GByteArray *dev = g_byte_array_new();

    aml_bytes(dev, name, 4);
    aml_bytes(dev, body->data, body->len);
    g_byte_array_unref(body);
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_DEVICE);
    aml_pkg(a, dev);
}
