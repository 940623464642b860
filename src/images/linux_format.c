/* Naming the format of a file that is not the kernel vmm expected, for
 * "not a bzImage (an arm64 Image)" messages. Pure. */
#include <string.h>

#include "vmm/linux.h"

const char *linux_guess_format(const uint8_t *data, size_t size)
{
    if (size >= 4 && !memcmp(data, "\177ELF", 4))
        return "an ELF file (a vmlinux? boot it as firmware, or use the bzImage/Image)";
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        return "gzip-compressed (decompress an Image.gz first)";
    if (size >= 0x206 && !memcmp(data + 0x202, "HdrS", 4))
        return "an x86 bzImage";
    if (size >= 64 && !memcmp(data + 56, "ARM\x64", 4))
        return "an arm64 Image";
    if (size >= 0x40 && !memcmp(data, "MZ", 2))
        return "a PE/EFI image";
    return NULL;
}
