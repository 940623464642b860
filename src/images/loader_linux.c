/* Linux kernels: reading the files, the checks common to both formats. */
#include <string.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/linux.h"
#include "vmm/loader.h"

const char *linux_cmdline(const struct linux_image *li)
{
    return li->cmdline ? li->cmdline : arch_linux_default_cmdline();
}

/* Reads @what's file (without blocking on it: a FIFO is refused) with
 * "too large for N MiB of RAM" for one that cannot fit. */
static bool read_part(const char *what, const char *path, uint64_t ram_size, uint8_t **data,
                      size_t *size, GError **error)
{
    GError *err = NULL;
    uint64_t file_size;
    int fd = image_open(path, &file_size, &err);

    if (fd >= 0 && file_size > ram_size) {
        close(fd);
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (the file has %"
                    G_GUINT64_FORMAT " MiB)", what, path, ram_size >> 20,
                    (file_size + (1 << 20) - 1) >> 20);
        return false;
    }
    if (fd < 0 || !image_read_fd(fd, path, file_size, data, size, &err)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", what, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

bool linux_image_read(struct linux_image *li, uint64_t ram_size, unsigned nr_vcpus,
                      GError **error)
{
    return read_part("kernel", li->kernel_path, ram_size, &li->kernel, &li->kernel_size,
                     error) &&
           (!li->initrd_path ||
            read_part("initrd", li->initrd_path, ram_size, &li->initrd, &li->initrd_size,
                      error)) &&
           arch_linux_check(li, ram_size, nr_vcpus, error);
}

void linux_image_clear(struct linux_image *li)
{
    g_free(li->kernel_path);
    g_free(li->initrd_path);
    g_free(li->cmdline);
    g_free(li->kernel);
    g_free(li->initrd);
    memset(li, 0, sizeof(*li));
}
