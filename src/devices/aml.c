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
    size_t len = body->len + 1;

    if (len < 0x40) {
        aml_byte(a, len);
    } else {
        len++;
        g_assert(len < 0x1000);
        aml_byte(a, 0x40 | (len & 0xf));
        aml_byte(a, len >> 4);
    }
    aml_bytes(a, body->data, body->len);
    g_byte_array_unref(body);
}
