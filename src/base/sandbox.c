/*
 * Confinement of a worker process (vmm/sandbox.h). What each step buys,
 * for a worker whose guest has taken it over:
 * - namespaces: it sees no other process (its own PID namespace, from
 *   sandbox_spawn()), no host network, IPC objects or hostname;
 * - an empty read-only root: no host path resolves at all;
 * - rlimits: bounded memory and descriptors;
 * - another uid: none of the host's root-owned files or processes;
 * - no capabilities, no_new_privs: nothing to regain;
 * - Landlock: even a path it could still name (a descriptor opened before,
 *   a directory reached through /proc of another process) opens nothing.
 * The steps overlap on purpose: each covers hosts where another is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm/caps.h"
#include "vmm/error.h"
#include "vmm/sandbox.h"
#include "vmm/seccomp.h"

/* Where the empty root is mounted before it becomes the root: a directory
 * every Linux host has, and which the worker needs no more (its mount
 * namespace is its own). */
#define SANDBOX_MOUNT_POINT "/proc"

static void note(GPtrArray *notes, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(GPtrArray *notes, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(notes, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static bool fail(GError **error, const char *what)
{
    g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "sandbox: %s: %s", what, g_strerror(errno));
    return false;
}

pid_t sandbox_spawn(bool *own_pid_ns)
{
    /* Raw clone: fork() with a flag glibc's wrapper does not take. */
    pid_t pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);

    *own_pid_ns = pid >= 0;
    if (pid >= 0 || (errno != EPERM && errno != EINVAL && errno != ENOSPC && errno != EUSERS))
        return pid;
    return fork();
}

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text);
}

/* The namespaces; false when the host allows none (noted). */
static bool enter_namespaces(GPtrArray *notes, GError **error)
{
    const int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    char map[64];

    if (!uid) {
        if (unshare(flags) == 0)
            return true;
        if (errno != EPERM && errno != EINVAL)
            return fail(error, "unshare of the mount, IPC, UTS and network namespaces");
        note(notes, "no namespaces: unshare: %s (a container without CAP_SYS_ADMIN?)",
             g_strerror(errno));
        return false;
    }
    /* Not root: a user namespace of its own makes the others possible,
     * where the host allows unprivileged user namespaces. */
    if (unshare(CLONE_NEWUSER | flags) < 0) {
        note(notes, "no namespaces: unprivileged user namespaces are not allowed here (%s)",
             g_strerror(errno));
        return false;
    }
    snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
    if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", map))
        return fail(error, "the user namespace's uid map");
    snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
    if (!write_file("/proc/self/gid_map", map))
        return fail(error, "the user namespace's gid map");
    return true;
}

/* An empty read-only tmpfs becomes the root; the host's tree is detached. */
static bool enter_empty_root(GError **error)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(error, "making the mounts private");
    if (mount("vmm-worker", SANDBOX_MOUNT_POINT, "tmpfs",
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=1,mode=0555") < 0)
        return fail(error, "mounting the empty root");
    if (chdir(SANDBOX_MOUNT_POINT) < 0)
        return fail(error, "entering the empty root");
    /* pivot_root(".", "."): the old root ends up stacked on the new one,
     * where one lazy unmount removes it. */
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        if (umount2(".", MNT_DETACH) < 0)
            return fail(error, "detaching the host's root");
    } else if (errno == EINVAL) {
        /* The host runs from its initramfs (rootfs cannot be pivoted
         * away): the empty root moves over it, as switch_root does, and
         * becomes this process's root. What lies beneath is out of reach
         * without CAP_SYS_CHROOT and a directory descriptor, and the
         * worker has neither. */
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return fail(error, "moving the empty root over /");
        if (chroot(".") < 0)
            return fail(error, "chroot");
    } else {
        return fail(error, "pivot_root");
    }
    if (chdir("/") < 0)
        return fail(error, "chdir /");
    return true;
}

static bool set_limit(int resource, uint64_t value, const char *name, GError **error)
{
    struct rlimit old, r = { value, value };

    if (!value)
        return true;
    if (getrlimit(resource, &old) == 0 && old.rlim_max != RLIM_INFINITY && old.rlim_max < value)
        r.rlim_cur = r.rlim_max = old.rlim_max; /* never above what it had */
    if (setrlimit(resource, &r) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "sandbox: %s limit %" G_GUINT64_FORMAT
                    ": %s", name, value, g_strerror(errno));
        return false;
    }
    return true;
}

static bool change_ids(const struct sandbox_config *c, GError **error)
{
    if (getuid() != 0 || c->uid == SANDBOX_KEEP_ID)
        return true;
    if (setgroups(0, NULL) < 0)
        return fail(error, "setgroups");
    if (setresgid(c->gid, c->gid, c->gid) < 0)
        return fail(error, "setresgid");
    if (setresuid(c->uid, c->uid, c->uid) < 0)
        return fail(error, "setresuid");
    /* A change of credentials clears the parent-death signal: the worker
     * still ends with its launcher. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    return true;
}

/*
 * Landlock, from the kernel's ABI version: a ruleset that handles every
 * file system right (and TCP, and the scopes, where known) with no rule
 * granting any. Rights are checked when a file is opened: the
 * descriptors the VM already holds (/dev/kvm, its console) keep working.
 */
struct landlock_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;  /* ABI 4 */
    uint64_t scoped;              /* ABI 6 */
};

/* The domain's ruleset, kept for the threads that existed before it
 * (sandbox_adopt()); -1 when there is none. */
static int landlock_ruleset = -1;

static bool enter_landlock(GPtrArray *notes, GError **error)
{
    struct landlock_attr attr = { 0 };
    size_t size = sizeof(attr.handled_access_fs);
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    int fd;

    if (abi < 0) {
        note(notes, "no Landlock: %s", errno == EOPNOTSUPP ? "disabled in this kernel"
                                                           : g_strerror(errno));
        return true;
    }
    attr.handled_access_fs = (1ull << 13) - 1;    /* ABI 1: execute .. make_sym */
    if (abi >= 2)
        attr.handled_access_fs |= 1ull << 13;      /* refer */
    if (abi >= 3)
        attr.handled_access_fs |= 1ull << 14;      /* truncate */
    if (abi >= 5)
        attr.handled_access_fs |= 1ull << 15;      /* ioctl on devices */
    if (abi >= 4) {
        attr.handled_access_net = 3;               /* bind and connect TCP */
        size = offsetof(struct landlock_attr, scoped);
    }
    if (abi >= 6) {
        attr.scoped = 3;                           /* abstract sockets, signals */
        size = sizeof(attr);
    }
    fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0)
        return fail(error, "landlock_create_ruleset");
    if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
        close(fd);
        return fail(error, "landlock_restrict_self");
    }
    __atomic_store_n(&landlock_ruleset, fd, __ATOMIC_RELEASE);
    return true;
}

void sandbox_adopt(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct none[2] = { 0 };
    int fd = __atomic_load_n(&landlock_ruleset, __ATOMIC_ACQUIRE);

    if (fd >= 0)
        syscall(SYS_landlock_restrict_self, fd, 0);
    /* The uid change cleared its capabilities; where the ids stay (root
     * kept, or not root), this does. */
    syscall(SYS_capset, &hdr, none);
}

/* A sanitizer's shadow memory takes terabytes of address space. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_LIMIT_ADDRESS_SPACE false
#else
#define SANDBOX_LIMIT_ADDRESS_SPACE true
#endif

/* The address space the process uses now (/proc/self/statm), 0 when
 * unknown. */
static uint64_t address_space_now(void)
{
    g_autofree char *text = NULL;
    guint64 pages;

    if (!g_file_get_contents("/proc/self/statm", &text, NULL, NULL) ||
        !g_ascii_string_to_unsigned(g_strdelimit(text, " ", 0), 10, 1, G_MAXUINT32, &pages,
                                    NULL))
        return 0;
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* sandbox_prepare() made the namespaces: sandbox_enter() may leave the host's root. */
static bool own_mount_ns;

bool sandbox_prepare(GPtrArray *notes, GError **error)
{
    GError *err = NULL;

    if (enter_namespaces(notes, &err)) {
        own_mount_ns = true;
        return true;
    }
    if (!err)
        return true; /* noted */
    g_propagate_error(error, err);
    return false;
}

bool sandbox_enter(const struct sandbox_config *c, GPtrArray *notes, GError **error)
{
    uint64_t as_limit = 0;

    /* Read while /proc is there: what it maps now (its guest RAM among
     * it), plus the room it may still take. */
    if (c->address_space_headroom && SANDBOX_LIMIT_ADDRESS_SPACE) {
        uint64_t now = address_space_now();

        if (now)
            as_limit = now + c->address_space_headroom;
        else
            note(notes, "no address space limit: /proc/self/statm unreadable");
    } else if (c->address_space_headroom) {
        note(notes, "no address space limit: a sanitizer build");
    }

    if (own_mount_ns && !enter_empty_root(error))
        return false;
    if (!set_limit(RLIMIT_AS, as_limit, "address space", error) ||
        !set_limit(RLIMIT_NOFILE, c->open_files, "open files", error))
        return false;
    /* The bounding set goes while it still may (CAP_SETPCAP), then the
     * ids, which clear the rest. */
    if (!caps_drop_bounding(error) || !change_ids(c, error))
        return false;
    if (!caps_drop_all(error)) /* and no_new_privs, which Landlock needs */
        return false;
    /* Threads started before now (device workers) follow when they adopt
     * their seccomp list. */
    vmm_seccomp_on_adopt(sandbox_adopt);
    return enter_landlock(notes, error);
}
