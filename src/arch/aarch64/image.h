/* The arm64 Image format (image.c): pure, builds on any host. */
#ifndef VMM_ARM_IMAGE_H
#define VMM_ARM_IMAGE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct linux_image;
struct guest_mem;
struct vm_layout;

/* Where an Image's parts go, from arm_image_check. */
struct arm_linux_plan {
    uint64_t kernel_gpa;   /* RAM + text_offset; also the entry point */
    uint64_t kernel_mem;   /* image_size: what the kernel claims from there */
    uint64_t initrd_gpa;
};

/* Checks @li's Image (or raw binary), initrd and @cmdline against layout
 * @l: one-line errors naming the file. The config check and the load
 * both call it. */
bool arm_image_check(const struct linux_image *li, const char *cmdline,
                     const struct vm_layout *l, struct arm_linux_plan *p, GError **error);
/* Copies the kernel and initrd into guest memory as @p says. */
bool arm_image_load(struct guest_mem *mem, const struct linux_image *li,
                    const struct arm_linux_plan *p, GError **error);

#endif
