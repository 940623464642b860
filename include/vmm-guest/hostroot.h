/*
 * Host-root mode (`vmm run --host-root -- CMD`): what vmm tells the guest's
 * init (tools/vmm-init.c), as a file in the initramfs vmm generates. Plain
 * C with no dependencies: vmm encodes it, the static vmm-init decodes it,
 * both with src/boot/hostroot_conf.c.
 *
 * The file is a sequence of NUL-terminated strings (argv and environment
 * strings cannot hold a NUL, so nothing needs quoting): first the magic
 * "vmm-init/1", then records, each a key followed by its values:
 *   uid N / gid N        the user and group to run the command as (decimal)
 *   group N              a supplementary group (repeated)
 *   cwd PATH             the working directory (absolute)
 *   root TAG             the virtio-fs tag of the host's "/" (read-only)
 *   rw TAG PATH          a read-write virtio-fs share mounted at PATH (repeated)
 *   env NAME=VALUE       one environment variable (repeated)
 *   arg S                the command, then its arguments (repeated, at least one)
 * Every field is checked on decode: the decoder trusts nothing it reads.
 */
#ifndef VMM_GUEST_HOSTROOT_H
#define VMM_GUEST_HOSTROOT_H

#include <stddef.h>

#define HOSTROOT_CONF_MAGIC    "vmm-init/1"
#define HOSTROOT_CONF_PATH     "/vmm-init.conf"  /* in the initramfs */
#define HOSTROOT_CONF_MAX      (1u << 20)        /* bytes, the whole file */
#define HOSTROOT_MAX_ARGS      4096
#define HOSTROOT_MAX_ENV       64
#define HOSTROOT_MAX_RW        16
#define HOSTROOT_MAX_GROUPS    64
#define HOSTROOT_MAX_PATH      4095              /* bytes, as Linux's PATH_MAX - 1 */
#define HOSTROOT_MAX_TAG       36                /* virtio-fs tag bytes */
#define HOSTROOT_ID_MAX        0xfffffffeu       /* (uid_t)-1 means "unchanged" */

/* vmm-init's own failures (before the command ran), as the README's exit
 * status table documents: the status the VM ends with. */
#define HOSTROOT_EXIT_INIT     122  /* set-up failed: vmm-init says why on the console */
#define HOSTROOT_EXIT_NOEXEC   126  /* the command is not executable */
#define HOSTROOT_EXIT_NOTFOUND 127  /* the command was not found */
#define HOSTROOT_EXIT_SIGNAL   128  /* + the signal that killed the command */

struct hostroot_rw {
    const char *tag;
    const char *path;
};

struct hostroot_conf {
    unsigned uid, gid;
    unsigned nr_groups;
    unsigned groups[HOSTROOT_MAX_GROUPS];
    const char *cwd;
    const char *root_tag;
    unsigned nr_rw;
    struct hostroot_rw rw[HOSTROOT_MAX_RW];
    unsigned nr_env;
    const char *env[HOSTROOT_MAX_ENV];
    unsigned nr_args;
    const char *argv[HOSTROOT_MAX_ARGS + 1]; /* NULL-terminated */
};

/* Why @c cannot be encoded (a message), or NULL when it can. */
const char *hostroot_conf_check(const struct hostroot_conf *c);
/* Writes @c's file into @buf (@size bytes, may be 0 to measure) and returns
 * its length, or 0 when hostroot_conf_check() refuses it. The file is
 * complete only when the result is at most @size. */
size_t hostroot_conf_encode(const struct hostroot_conf *c, char *buf, size_t size);
/* Reads @len bytes at @buf into @c, whose strings then point into @buf
 * (left unchanged). Returns NULL, or why the file is refused. */
const char *hostroot_conf_decode(const char *buf, size_t len, struct hostroot_conf *c);

#endif
