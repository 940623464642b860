/*
 * Host-root mode: `vmm run --kernel K --host-root [--rw DIR]... -- CMD`
 * boots the kernel on the host's own files (a read-only virtio-fs share of
 * "/") and ends with CMD's status. vmm generates the initramfs: its init,
 * tools/vmm-init, and the file that tells it what to run
 * (vmm-guest/hostroot.h). README "Boot a kernel in CI" documents it.
 */
#ifndef VMM_HOSTROOT_H
#define VMM_HOSTROOT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm-guest/hostroot.h"

struct vmm_config;

/* ---- a newc ("070701") cpio archive in memory, the kernel's initramfs format ---- */
struct cpio {
    GByteArray *data;
    uint32_t ino;
};

#define CPIO_NAME_MAX 4096  /* bytes of a member's name */

void cpio_init(struct cpio *c);
/* Adds a member: @name relative ("init", "dev/console"), @mode with its
 * type bits (S_IFREG | 0755), @rdev_major:@rdev_minor for a device node,
 * @size bytes of @data for a file. Owned by root, time 0. */
bool cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t rdev_major,
              uint32_t rdev_minor, const void *data, size_t size, GError **error);
/* Ends the archive (TRAILER!!!) and hands its bytes over (g_free them);
 * @c is empty after. */
uint8_t *cpio_finish(struct cpio *c, size_t *size);
void cpio_clear(struct cpio *c);

/* ---- the mode itself ---- */
struct host_root_request {
    char **argv;          /* the command and its arguments, NULL-terminated */
    const char **rw;      /* --rw directories */
    unsigned nr_rw;
};

#define HOST_ROOT_TAG      "vmm-root"   /* the virtio-fs tag of the host's "/" */
#define HOST_ROOT_CMDLINE  "quiet rdinit=/init"

/* Where vmm-init is, the first of: @env_path ($VMM_INIT) when set and not
 * empty; tools/vmm-init in @exe_dir (vmm's folder) when it exists, as in a
 * build tree; vmm-init in @installed_dir (<libexecdir>/vmm). Newly allocated. */
char *host_root_init_path(const char *env_path, const char *exe_dir, const char *installed_dir);

/* Makes @cfg (a kernel boot, options applied, before config_finish()) a
 * host-root boot: the shares, the generated initramfs, the command line
 * (vmm's, then the config's or --append's), and the command's status as the
 * VM's. Errors (VMM_ERROR_CONFIG) name what is wrong. */
bool host_root_apply(struct vmm_config *cfg, const struct host_root_request *req,
                     GError **error);

#endif
