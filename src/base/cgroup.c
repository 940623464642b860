/*
 * Per-worker cgroups (vmm/cgroup.h). The layout, under the group G that
 * vmm serve may use (the root, or its own delegated group):
 *
 *   G/vmm-serve-PID/            controllers memory, pids, cpu enabled
 *   G/vmm-serve-PID/worker-W    one per worker W: memory.max, pids.max
 *   G/vmm-serve-PID-main        vmm serve itself, when G is not the root
 *
 * cgroup v2 lets a group hand controllers to its children only when it
 * holds no process itself (the root excepted), hence the move of vmm
 * serve out of a delegated G. Equal cpu.weight per worker group shares
 * the CPU between VMs rather than between vCPU threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vmm/cgroup.h"

/* The controllers a worker's group uses, in the order they are enabled. */
static const char *const controllers[] = { "memory", "pids", "cpu" };

/* What cgroup_workers_end() needs in the launcher (a fork inherits it):
 * the group above the workers' group, and the workers' group's name. */
static int above_fd = -1;
static char group_name[64];

/* Writes @text to @dir/@file; 0 or -errno. */
static int write_at(int dir, const char *file, const char *text)
{
    int fd = openat(dir, file, O_WRONLY | O_CLOEXEC);
    ssize_t n, len = (ssize_t)strlen(text);
    int e;

    if (fd < 0)
        return -errno;
    n = write(fd, text, len);
    e = n == len ? 0 : n < 0 ? -errno : -EIO;
    close(fd);
    return e;
}

/* Reads @dir/@file into @buf (NUL-terminated); 0 or -errno. */
static int read_at(int dir, const char *file, char *buf, size_t size)
{
    int fd = openat(dir, file, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

/* vmm serve's own group, "/..." from /proc/self/cgroup's v2 line. */
static char *own_group(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/self/cgroup", &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, "0::/"))
            return g_strdup(*l + 3);
    return NULL;
}

static bool delegated(const char *path)
{
    const char *names[] = { "trusted.delegate", "user.delegate" };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        char v[8] = { 0 };
        ssize_t n = getxattr(path, names[i], v, sizeof(v) - 1);

        if (n > 0 && v[0] == '1')
            return true;
    }
    return false;
}

/* Enables what it can of controllers[] for @dir's children; which ones it
 * could not go to @missing. */
static void enable_controllers(int dir, GString *missing)
{
    char have[512];

    if (read_at(dir, "cgroup.controllers", have, sizeof(have)) < 0)
        have[0] = '\0';
    for (size_t i = 0; i < G_N_ELEMENTS(controllers); i++) {
        char plus[32];
        g_auto(GStrv) words = g_strsplit_set(have, " \n", -1);

        snprintf(plus, sizeof(plus), "+%s", controllers[i]);
        if (g_strv_contains((const char *const *)words, controllers[i]) &&
            write_at(dir, "cgroup.subtree_control", plus) == 0)
            continue;
        g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", controllers[i]);
    }
}

int cgroup_workers_setup(const char *tag, char **note)
{
    g_autofree char *group = NULL, *path = NULL, *main_name = NULL;
    g_autoptr(GString) missing = g_string_new(NULL);
    struct statfs fs;
    int top = -1, workers = -1, e;
    char pid[32];

    *note = NULL;
    if (statfs(CGROUP_MOUNT, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
        *note = g_strdup("no per-VM cgroups: no cgroup v2 hierarchy at " CGROUP_MOUNT);
        return -1;
    }
    group = own_group();
    if (!group) {
        *note = g_strdup("no per-VM cgroups: vmm serve is in no cgroup v2 group");
        return -1;
    }
    path = g_strconcat(CGROUP_MOUNT, group, NULL);
    if (strcmp(group, "/") && !delegated(path)) {
        *note = g_strdup_printf("no per-VM cgroups: vmm serve's cgroup %s is not delegated to "
                                "it (systemd: Delegate=yes)", group);
        return -1;
    }
    top = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        goto fail;
    if (strcmp(group, "/")) {
        /* Out of the way of the controllers: into a group of its own. */
        main_name = g_strdup_printf("%s-main", tag);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        if ((mkdirat(top, main_name, 0755) < 0 && errno != EEXIST))
            goto fail;
        int mainfd = openat(top, main_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        e = mainfd < 0 ? -errno : write_at(mainfd, "cgroup.procs", pid);
        if (mainfd >= 0)
            close(mainfd);
        if (e < 0) {
            errno = -e;
            goto fail;
        }
    }
    enable_controllers(top, missing);
    if (mkdirat(top, tag, 0755) < 0)
        goto fail;
    workers = openat(top, tag, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (workers < 0) {
        e = errno;
        unlinkat(top, tag, AT_REMOVEDIR);
        errno = e;
        goto fail;
    }
    g_string_truncate(missing, 0);
    enable_controllers(workers, missing);
    if (missing->len)
        *note = g_strdup_printf("per-VM cgroups under %s%s%s without the %s controller "
                                "(not offered to vmm serve's group)", group,
                                strcmp(group, "/") ? "/" : "", tag, missing->str);
    above_fd = top;
    g_strlcpy(group_name, tag, sizeof(group_name));
    return workers;

fail:
    *note = g_strdup_printf("no per-VM cgroups: cannot set up %s%s%s: %s", path,
                            strcmp(group, "/") ? "/" : "", tag, g_strerror(errno));
    if (top >= 0)
        close(top);
    return -1;
}

void cgroup_limits_for_vm(uint64_t guest_memory, unsigned vcpus, struct cgroup_limits *l)
{
    /* Guest RAM, KVM's own accounted memory for it (page tables, about
     * 0.2 %), vmm's heaps and thread stacks, and the page cache of its
     * console file: RAM plus 256 MiB and 16 MiB per vCPU is room enough,
     * while a worker can no longer take the host's memory. Threads: the
     * vCPUs, a host call thread per vCPU at most, and a few dozen for
     * the main loop, console, GLib and device workers. */
    l->memory_max = guest_memory + (256ull << 20) + (uint64_t)vcpus * (16ull << 20);
    l->pids_max = 32 + 2ull * vcpus;
}

int cgroup_worker_add(int parent, pid_t pid, const struct cgroup_limits *l)
{
    char name[32], num[32];
    int dir, e;

    snprintf(name, sizeof(name), "worker-%d", (int)pid);
    if (mkdirat(parent, name, 0755) < 0)
        return -errno;
    dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        e = -errno;
        goto fail;
    }
    /* A controller the host did not offer has no file: that limit is not
     * applied (cgroup_workers_setup() said so once). */
    snprintf(num, sizeof(num), "%llu", (unsigned long long)l->memory_max);
    e = write_at(dir, "memory.max", num);
    if (e == 0 || e == -ENOENT) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)l->pids_max);
        e = write_at(dir, "pids.max", num);
    }
    if (e == 0 || e == -ENOENT) {
        snprintf(num, sizeof(num), "%d", (int)pid);
        e = write_at(dir, "cgroup.procs", num);
    }
    close(dir);
    if (e == 0)
        return 0;
fail:
    unlinkat(parent, name, AT_REMOVEDIR);
    return e;
}

void cgroup_worker_remove(int parent, pid_t pid)
{
    char name[32];

    snprintf(name, sizeof(name), "worker-%d", (int)pid);
    unlinkat(parent, name, AT_REMOVEDIR);
}

void cgroup_workers_end(int parent)
{
    int fd = dup(parent);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    /* Every worker has ended or is about to (it dies with the launcher):
     * wait for them, then their groups can go. */
    write_at(parent, "cgroup.kill", "1");
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "worker-", 7))
            unlinkat(parent, e->d_name, AT_REMOVEDIR);
    if (d)
        closedir(d);
    close(parent);
    if (above_fd >= 0) {
        unlinkat(above_fd, group_name, AT_REMOVEDIR);
        close(above_fd);
        above_fd = -1;
    }
}
