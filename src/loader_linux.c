/* Linux kernels: reading the files, the checks common to both formats. */
#include <string.h>
#include <sys/stat.h>

#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/linux.h"
#include "vmm/loader.h"
#include "vmm/vm.h"

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

const char *linux_cmdline(const struct linux_image *li)
{
    return li->cmdline ? li->cmdline : arch_linux_default_cmdline();
}

/* "too large for N MiB of RAM" before image_read's generic words. */
static bool fits(const char *what, const char *path, uint64_t ram_size, GError **error)
{
    struct stat st;

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > ram_size) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (the file has %"
                    G_GUINT64_FORMAT " MiB)", what, path, ram_size >> 20,
                    ((uint64_t)st.st_size + (1 << 20) - 1) >> 20);
        return false;
    }
    return true;
}

bool linux_image_read(struct linux_image *li, uint64_t ram_size, GError **error)
{
    GError *err = NULL;

    if (!fits("kernel", li->kernel_path, ram_size, error) ||
        (li->initrd_path && !fits("initrd", li->initrd_path, ram_size, error)))
        return false;

    if (!image_read(li->kernel_path, ram_size, &li->kernel, &li->kernel_size, &err)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "kernel: %s", err->message);
        g_error_free(err);
        return false;
    }
    if (li->initrd_path &&
        !image_read(li->initrd_path, ram_size, &li->initrd, &li->initrd_size, &err)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "initrd: %s", err->message);
        g_error_free(err);
        return false;
    }
    return arch_linux_check(li, ram_size, error);
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

bool vm_load_linux(struct vm *vm, const struct linux_image *li, GError **error)
{
    if (!arch_linux_load(vm, li, error))
        return false;
    linux_panic_watch(vm);
    return true;
}
