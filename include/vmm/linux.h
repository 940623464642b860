/*
 * Booting a Linux kernel: what is common to both architectures (reading
 * the kernel and initrd, the messages a user sees, the panic watch). The
 * formats themselves are the architecture's: arch_linux_*() in vmm/arch.h.
 */
#ifndef VMM_LINUX_H
#define VMM_LINUX_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

struct linux_image {
    char *kernel_path;
    char *initrd_path;     /* NULL: no initrd */
    char *cmdline;         /* NULL: arch_linux_default_cmdline() */
    uint8_t *kernel;
    size_t kernel_size;
    uint8_t *initrd;
    size_t initrd_size;
};

/* Reads the kernel and initrd (never blocking on a FIFO: only regular
 * files) and checks that they can boot in @ram_size bytes of RAM with
 * @nr_vcpus vCPUs; one-line errors such as "kernel: K: not a bzImage". */
bool linux_image_read(struct linux_image *li, uint64_t ram_size, unsigned nr_vcpus,
                      GError **error);
void linux_image_clear(struct linux_image *li);

/* What a kernel file looks like, for "not a bzImage (an arm64 Image)"
 * messages; NULL when it is nothing vmm recognises (linux_format.c). */
const char *linux_guess_format(const uint8_t *data, size_t size);

/* The command line a kernel gets: li->cmdline or the arch's default. */
const char *linux_cmdline(const struct linux_image *li);


#endif
