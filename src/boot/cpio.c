/*
 * A newc cpio writer: the format the kernel unpacks an initramfs from
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte
 * ASCII header of "070701" and 13 eight-digit hex fields, the name with its
 * NUL, padded to 4 bytes, the data, padded to 4 bytes; "TRAILER!!!" last.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/error.h"
#include "vmm/hostroot.h"

#define CPIO_HEADER_SIZE 110

void cpio_init(struct cpio *c)
{
    c->data = g_byte_array_new();
    c->ino = 1;
}

static void pad4(GByteArray *a)
{
    static const uint8_t zeros[4];

    g_byte_array_append(a, zeros, (4 - (a->len & 3)) & 3);
}

static void header(GByteArray *a, uint32_t ino, uint32_t mode, uint32_t nlink,
                   uint32_t filesize, uint32_t rmaj, uint32_t rmin, const char *name)
{
    char h[CPIO_HEADER_SIZE + 1];
    size_t namesize = strlen(name) + 1;

    /* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
     * rdevminor namesize check */
    snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino, mode, 0, 0, nlink, 0, filesize, 0, 0, rmaj, rmin, (uint32_t)namesize, 0);
    g_byte_array_append(a, (const uint8_t *)h, CPIO_HEADER_SIZE);
    g_byte_array_append(a, (const uint8_t *)name, namesize);
    pad4(a);
}

bool cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t rdev_major,
              uint32_t rdev_minor, const void *data, size_t size, GError **error)
{
    size_t len = strlen(name);
    const char *why = NULL;

    if (len == 0 || len >= CPIO_NAME_MAX)
        why = "empty or too long";
    else if (name[0] == '/' || strstr(name, "..") || !strcmp(name, "TRAILER!!!"))
        why = "not a relative name inside the archive";
    else if (size > UINT32_MAX || (size && !S_ISREG(mode)))
        why = "too large, or data for something that is not a file";
    else if (!(S_ISREG(mode) || S_ISDIR(mode) || S_ISCHR(mode) || S_ISBLK(mode) ||
               S_ISLNK(mode)))
        why = "not a file, folder, device or symlink";
    if (why) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "initramfs member \"%s\": %s", name, why);
        return false;
    }
    header(c->data, c->ino++, mode, S_ISDIR(mode) ? 2 : 1, (uint32_t)size, rdev_major,
           rdev_minor, name);
    if (size) {
        g_byte_array_append(c->data, data, (guint)size);
        pad4(c->data);
    }
    return true;
}

uint8_t *cpio_finish(struct cpio *c, size_t *size)
{
    header(c->data, 0, 0, 1, 0, 0, 0, "TRAILER!!!");
    *size = c->data->len;
    return g_byte_array_free(g_steal_pointer(&c->data), FALSE);
}

void cpio_clear(struct cpio *c)
{
    if (c->data)
        g_byte_array_unref(g_steal_pointer(&c->data));
}
