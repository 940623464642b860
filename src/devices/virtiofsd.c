/*
 * Starting and stopping a share's virtiofsd (vmm/hw/virtiofsd.h).
 *
 * Everything the child needs is made before fork(): vmm has threads, so
 * between fork and exec the child only makes system calls (no malloc, no
 * locks). A step that fails there sends its number and errno up a
 * close-on-exec pipe; the pipe's end without a word means the exec
 * happened.
 *
 * That virtiofsd's --fd is a listening socket it accepts one connection
 * on, not a connected one. So vmm binds it in a folder of its own
 * (mode 0700: nobody else can connect), connects to it before the daemon
 * runs (the connection waits in the backlog), and removes the path and
 * the folder at once: the daemon's first accept takes vmm's connection,
 * and no other can reach it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vmm/error.h"
#include "vmm/hw/virtiofsd.h"
#include "vmm/seccomp.h"

/* The child's steps, for the parent's message. */
enum step { STEP_USERNS, STEP_IDMAP, STEP_MOUNTNS, STEP_PRIVATE, STEP_BIND, STEP_READONLY,
            STEP_FDS, STEP_EXEC };

static const char *const step_what[] = {
    [STEP_USERNS] = "cannot make a user namespace for it (vmm is not root)",
    [STEP_IDMAP] = "cannot map the user into its user namespace",
    [STEP_MOUNTNS] = "cannot make a mount namespace for it",
    [STEP_PRIVATE] = "cannot make its mounts private",
    [STEP_BIND] = "cannot bind-mount the folder",
    [STEP_READONLY] = "cannot make the folder read-only for it (mount_setattr)",
    [STEP_FDS] = "cannot pass it its socket",
    [STEP_EXEC] = "cannot run",
};

struct report {
    int step, err;
};

/* What the child does, all of it prepared. */
struct plan {
    const char *daemon;
    char *const *argv;
    const char *source;
    bool userns, readonly;
    char uid_map[64], gid_map[64];
    int sock, report_fd, null_fd;   /* sock: the listening socket */
    pid_t parent;
};

static void child_fail(const struct plan *p, enum step step)
{
    struct report r = { step, errno };

    (void)!write(p->report_fd, &r, sizeof(r));
    _exit(127);
}

static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(text);
}

static __attribute__((noreturn)) void child(const struct plan *p)
{
    struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

    /* It must not outlive vmm, even a vmm killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != p->parent)
        _exit(127);
    if (p->userns) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            child_fail(p, STEP_USERNS);
        if (!write_file("/proc/self/setgroups", "deny") ||
            !write_file("/proc/self/uid_map", p->uid_map) ||
            !write_file("/proc/self/gid_map", p->gid_map))
            child_fail(p, STEP_IDMAP);
    } else if (p->readonly && unshare(CLONE_NEWNS) < 0) {
        child_fail(p, STEP_MOUNTNS);
    }
    if (p->readonly) {
        /* Nothing done here reaches the host's mounts. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            child_fail(p, STEP_PRIVATE);
        if (mount(p->source, p->source, NULL, MS_BIND | MS_REC, NULL) < 0)
            child_fail(p, STEP_BIND);
        /* Read-only with every mount below it (AT_RECURSIVE), which a
         * remount of the top one would not give. */
        if (syscall(SYS_mount_setattr, AT_FDCWD, p->source, AT_RECURSIVE, &ro, sizeof(ro)) < 0)
            child_fail(p, STEP_READONLY);
    }
    /* Its socket as fd 3 (--fd=3), /dev/null as input; stdout and stderr
     * stay vmm's; every other fd is vmm's business, not the daemon's. */
    if (p->sock == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(p->sock, 3) < 0)
        child_fail(p, STEP_FDS);
    if (dup2(p->null_fd, 0) < 0 || syscall(SYS_close_range, 4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        child_fail(p, STEP_FDS);
    /* vmm blocks signals in some threads: the daemon starts with none blocked. */
    {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
    }
    execv(p->daemon, p->argv);
    child_fail(p, STEP_EXEC);
    _exit(127);
}

/* An fd number of at least 4, close-on-exec (the child's fds 0-3 are spoken for). */
static int high_fd(int fd)
{
    int high;

    if (fd < 0 || fd >= 4)
        return fd;
    high = fcntl(fd, F_DUPFD_CLOEXEC, 4);
    close(fd);
    return high;
}

static bool read_report(int fd, struct report *r)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t n;

    /* Up to the exec: no more than a few system calls; bounded anyway. */
    while (poll(&p, 1, 5000) < 0 && errno == EINTR)
        ;
    do
        n = read(fd, r, sizeof(*r));
    while (n < 0 && errno == EINTR);
    return n == sizeof(*r);
}

/* Is the root file system the initial ramfs (rootfs)? There pivot_root()
 * fails, and with it virtiofsd's namespace sandbox: it gets its chroot
 * sandbox instead (as in vmm's own test bed). */
static bool root_is_rootfs(void)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    bool rootfs = false;

    if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
        return false;
    lines = g_strsplit(text, "\n", -1);
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS] - FSTYPE ...": the
     * last mount on / is the one in use. */
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", -1);
        const char *dash = strstr(*l, " - ");

        if (g_strv_length(f) > 5 && !strcmp(f[4], "/") && dash)
            rootfs = g_str_has_prefix(dash + 3, "rootfs ");
    }
    return rootfs;
}

/* A listening socket and vmm's connection to it, with no path left; or -errno. */
static int listen_and_connect(int *listener, int *conn)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-virtiofsd-XXXXXX", NULL);
    g_autofree char *path = dir ? g_build_filename(dir, "s", NULL) : NULL;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int r = 0;

    *listener = *conn = -1;
    if (!dir)
        return -errno;
    if (strlen(path) >= sizeof(a.sun_path)) {
        g_rmdir(dir);
        return -ENAMETOOLONG;
    }
    strcpy(a.sun_path, path);
    if ((*listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(*listener, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*listener, 1) < 0 ||
        (*conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(*conn, (struct sockaddr *)&a, sizeof(a)) < 0)
        r = -errno;
    g_unlink(path);
    g_rmdir(dir);
    return r;
}

bool virtiofsd_start(struct virtiofsd *d, const struct device_share *share, GError **error)
{
    const char *env = g_getenv("VMM_VIRTIOFSD");
    g_autofree char *daemon = g_strdup(env && *env ? env : VIRTIOFSD_DEFAULT);
    g_autofree char *source_opt = g_strdup_printf("source=%s", share->path);
    /* Errors only: Debian 12's daemon warns "fv_remove_watch: TODO!" at
     * every driver reset, noise on the user's stderr; its end is vmm's to
     * report (virtio_fs.c). */
    char *argv[] = { daemon, "--fd=3", "-o", source_opt, "-o", "cache=auto",
                     "-o", "announce_submounts", "-o", "log_level=err",
                     root_is_rootfs() ? "-o" : NULL, "sandbox=chroot", NULL };
    struct plan p = { .daemon = daemon, .argv = argv, .source = share->path,
                      .userns = geteuid() != 0, .readonly = share->readonly,
                      .parent = getpid() };
    int sv[2] = { -1, -1 }, rep[2] = { -1, -1 };
    struct report r;
    struct stat st;
    pid_t pid;

    *d = (struct virtiofsd){ .sock = -1, .what = g_strdup_printf("share %s", share->tag) };
    errno = 0;
    if (stat(share->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s: %s", d->what, share->path,
                    errno ? g_strerror(errno) : "not a folder");
        g_clear_pointer(&d->what, g_free);
        return false;
    }
    if (access(daemon, X_OK) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: cannot run virtiofsd %s: %s (install qemu-system-common, or name "
                    "another with VMM_VIRTIOFSD)", d->what, daemon, g_strerror(errno));
        g_clear_pointer(&d->what, g_free);
        return false;
    }
    /* Forked now, it would run under vmm's filters, which exec keeps. */
    if (vmm_seccomp_process_filtered()) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: virtiofsd can only be started before vmm's system call filters are "
                    "on: with vmm serve, use --workers on", d->what);
        g_clear_pointer(&d->what, g_free);
        return false;
    }
    snprintf(p.uid_map, sizeof(p.uid_map), "0 %u 1", (unsigned)geteuid());
    snprintf(p.gid_map, sizeof(p.gid_map), "0 %u 1", (unsigned)getegid());
    if ((errno = -listen_and_connect(&sv[1], &sv[0])) != 0 ||
        pipe2(rep, O_CLOEXEC) < 0 ||
        (p.null_fd = high_fd(open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0 ||
        (rep[1] = high_fd(rep[1])) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: cannot start virtiofsd: %s",
                    d->what, g_strerror(errno));
        goto fail;
    }
    p.sock = sv[1];
    p.report_fd = rep[1];
    pid = fork();
    if (pid < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: cannot start virtiofsd: fork: %s",
                    d->what, g_strerror(errno));
        goto fail;
    }
    if (pid == 0)
        child(&p);
    d->pid = pid;
    close(g_steal_fd(&rep[1]));
    close(g_steal_fd(&sv[1]));
    close(p.null_fd);
    p.null_fd = -1;
    if (read_report(rep[0], &r)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: virtiofsd %s: %s: %s", d->what,
                    daemon, r.step >= 0 && r.step <= STEP_EXEC ? step_what[r.step] : "?",
                    g_strerror(r.err));
        /* It exits right after its report (child_fail): reap it, never
         * signal it. Before its exec it still runs vmm's signal handlers
         * (and a sanitizer's), which must not act in a copy of vmm: under
         * ThreadSanitizer a SIGTERM there was passed on to the whole
         * process group, vmm included. */
        while (waitpid(pid, &d->status, 0) < 0 && errno == EINTR)
            ;
        d->pid = 0;
        goto fail;
    }
    close(rep[0]);
    d->sock = sv[0];
    return true;

fail:
    for (unsigned i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (rep[i] >= 0)
            close(rep[i]);
    }
    if (p.null_fd > 0)
        close(p.null_fd);
    virtiofsd_stop(d);
    return false;
}

char *virtiofsd_why(struct virtiofsd *d, unsigned wait_ms)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)wait_ms * 1000;

    while (d->pid > 0) {
        pid_t r = waitpid(d->pid, &d->status, WNOHANG);

        if (r == d->pid || (r < 0 && errno != EINTR)) {
            d->pid = 0;
            break;
        }
        if (g_get_monotonic_time() >= deadline)
            return NULL;
        g_usleep(10 * 1000);
    }
    if (WIFEXITED(d->status))
        return g_strdup_printf("virtiofsd exited with status %d", WEXITSTATUS(d->status));
    if (WIFSIGNALED(d->status))
        return g_strdup_printf("virtiofsd was killed by signal %d (%s)", WTERMSIG(d->status),
                               strsignal(WTERMSIG(d->status)));
    return g_strdup("virtiofsd has ended");
}

void virtiofsd_stop(struct virtiofsd *d)
{
    if (d->pid > 0) {
        g_autofree char *why = NULL;

        /* SIGTERM first: the end of its socket alone makes it complain. */
        kill(d->pid, SIGTERM);
        why = virtiofsd_why(d, 1000);
        if (!why) {
            kill(d->pid, SIGKILL);
            while (waitpid(d->pid, &d->status, 0) < 0 && errno == EINTR)
                ;
            d->pid = 0;
        }
    }
    if (d->sock >= 0)
        close(g_steal_fd(&d->sock));
    g_clear_pointer(&d->what, g_free);
}
