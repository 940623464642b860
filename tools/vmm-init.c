/*
 * vmm-init: PID 1 of a `vmm run --host-root -- CMD` guest. A static binary
 * with no dependencies, built for the build's host architecture; vmm puts
 * it at /init of the initramfs it generates, beside the file that says what
 * to run (vmm-guest/hostroot.h, decoded by src/boot/hostroot_conf.c).
 *
 * It mounts the host's "/" (a read-only virtio-fs share) as the new root,
 * with its own proc, sys, dev and tmpfs on /tmp, /run and /var/tmp, and the
 * read-write shares at their host paths; then runs the command as the
 * user vmm ran as, in the host's working directory with a small
 * environment, on the console; reaps every process; and ends the VM with
 * the command's status (a signal n as 128 + n) through vmm's exact-status
 * exit register (docs/abi.md). Its own failures print one "vmm-init:" line
 * and end the VM with the statuses of vmm-guest/hostroot.h.
 * A guest program, not part of vmm: the one #if per architecture is here.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "vmm-guest/hostroot.h"
#include "vmm-guest/platform.h"

#define NEWROOT "/newroot"

/* The exit register is made reachable before the command runs, so that a
 * kernel that cannot reach it is reported before any work is done. */
#if defined(__x86_64__)
#include <sys/io.h>

static int exit_prepare(void)
{
    return ioperm(VMM_X86_EXIT_PORT, 1, 1) < 0 ? -errno : 0;
}

static void exit_write(unsigned status)
{
    outb(status, VMM_X86_EXIT_PORT);
}

/* ioperm() survives fork and exec: the command gets no port access. */
static void exit_drop(void)
{
    ioperm(VMM_X86_EXIT_PORT, 1, 0);
}
#elif defined(__aarch64__)
static volatile uint32_t *exit_regs;

static int exit_prepare(void)
{
    int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
    void *p;

    if (fd < 0)
        return -errno;
    p = mmap(NULL, VMM_ARM_EXIT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, VMM_ARM_EXIT_BASE);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    exit_regs = p;
    return 0;
}

static void exit_write(unsigned status)
{
    exit_regs[VMM_EXIT_REG_STATUS / 4] = status;
}

/* The mapping does not survive exec. */
static void exit_drop(void)
{
}
#else
#error "vmm-init: x86_64 or aarch64 only"
#endif

static bool exit_ready;

/* Waits for output already written to the console to leave the UART. */
static void drain_console(void)
{
    while (tcdrain(STDOUT_FILENO) < 0 && errno == EINTR)
        ;
    while (tcdrain(STDERR_FILENO) < 0 && errno == EINTR)
        ;
}

/* Ends the VM with @status. Should the register not end it (not under
 * vmm), returning from PID 1 panics the kernel, which vmm reports too. */
static void __attribute__((noreturn)) end_vm(unsigned status)
{
    /* Files the command wrote, and console output still in the tty layer. */
    sync();
    drain_console();
    if (exit_ready)
        exit_write(status);
    fprintf(stderr, "vmm-init: the VM did not end with status %u (not running under vmm?)\n",
            status);
    exit(status);
}

static void __attribute__((noreturn, format(printf, 2, 3))) fail(unsigned status,
                                                                 const char *fmt, ...)
{
    va_list ap;

    fputs("vmm-init: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    end_vm(status);
}

static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        fail(HOSTROOT_EXIT_INIT, "mkdir %s: %s", path, strerror(errno));
}

static void do_mount(const char *src, const char *target, const char *type,
                     unsigned long flags, const char *data)
{
    if (mount(src, target, type, flags, data) < 0)
        fail(HOSTROOT_EXIT_INIT, "mount %s (%s) on %s: %s", src, type ? type : "move", target,
             strerror(errno));
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p @path (absolute), for a read-write share whose host path the
 * guest's tree lacks (under its own /tmp, say). */
static void make_path(const char *path)
{
    char p[sizeof(NEWROOT) + HOSTROOT_MAX_PATH + 1];

    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (!is_dir(p) && mkdir(p, 0755) < 0)
            fail(HOSTROOT_EXIT_INIT, "mkdir %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (!is_dir(p) && mkdir(p, 0755) < 0)
        fail(HOSTROOT_EXIT_INIT, "mkdir %s: %s", p, strerror(errno));
}

static bool kernel_has_fs(const char *name)
{
    char line[256];
    FILE *f = fopen("/proc/filesystems", "re");
    bool found = false;

    if (!f)
        return true; /* cannot tell: let mount(2) say */
    while (!found && fgets(line, sizeof(line), f)) {
        char *tab = strrchr(line, '\t');

        line[strcspn(line, "\n")] = '\0';
        found = !strcmp(tab ? tab + 1 : line, name);
    }
    fclose(f);
    return found;
}

static char conf_buf[HOSTROOT_CONF_MAX + 1];
static struct hostroot_conf conf;

static void read_conf(void)
{
    int fd = open(HOSTROOT_CONF_PATH, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;
    const char *why;

    if (fd < 0)
        fail(HOSTROOT_EXIT_INIT, "%s: %s", HOSTROOT_CONF_PATH, strerror(errno));
    while (len < sizeof(conf_buf) &&
           ((n = read(fd, conf_buf + len, sizeof(conf_buf) - len)) > 0 ||
            (n < 0 && errno == EINTR)))
        if (n > 0)
            len += n;
    close(fd);
    why = hostroot_conf_decode(conf_buf, len, &conf);
    if (why)
        fail(HOSTROOT_EXIT_INIT, "%s: %s", HOSTROOT_CONF_PATH, why);
}

/* The host's root as the new root, with the guest's own file systems. */
static void set_up_root(void)
{
    char target[sizeof(NEWROOT) + HOSTROOT_MAX_PATH + 1];
    static const struct { const char *dir, *opts; } scratch[] = {
        { "/tmp", "mode=1777" }, { "/run", "mode=755" }, { "/var/tmp", "mode=1777" },
    };

    if (!kernel_has_fs("virtiofs"))
        fail(HOSTROOT_EXIT_INIT, "this kernel has no virtio-fs (CONFIG_VIRTIO_FS=y is needed, "
             "built in: a module cannot load before the host's root is mounted)");
    make_dir(NEWROOT, 0755);
    do_mount(conf.root_tag, NEWROOT, "virtiofs", MS_RDONLY, NULL);
    for (size_t i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++) {
        snprintf(target, sizeof(target), NEWROOT "%s", scratch[i].dir);
        if (is_dir(target)) /* a host without /var/tmp keeps none */
            do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, scratch[i].opts);
    }
    for (unsigned i = 0; i < conf.nr_rw; i++) {
        snprintf(target, sizeof(target), NEWROOT "%s", conf.rw[i].path);
        make_path(target);
        do_mount(conf.rw[i].tag, target, "virtiofs", 0, NULL);
    }
    do_mount("/proc", NEWROOT "/proc", NULL, MS_MOVE, NULL);
    do_mount("/sys", NEWROOT "/sys", NULL, MS_MOVE, NULL);
    do_mount("/dev", NEWROOT "/dev", NULL, MS_MOVE, NULL);
    /* The initramfs cannot be pivoted away: move the new root over it. */
    if (chdir(NEWROOT) < 0)
        fail(HOSTROOT_EXIT_INIT, "chdir %s: %s", NEWROOT, strerror(errno));
    do_mount(".", "/", NULL, MS_MOVE, NULL);
    if (chroot(".") < 0 || chdir("/") < 0)
        fail(HOSTROOT_EXIT_INIT, "chroot: %s", strerror(errno));
}

/* What the child tells PID 1 when it could not start the command. */
struct child_error {
    int stage; /* 0: becoming the user, 1: exec, 2: the working directory */
    int err;
};

static void __attribute__((noreturn)) command(int report)
{
    struct child_error e = { 0, 0 };
    gid_t groups[HOSTROOT_MAX_GROUPS];

    for (unsigned i = 0; i < conf.nr_groups; i++)
        groups[i] = conf.groups[i];
    if (setgroups(conf.nr_groups, groups) < 0 || setgid(conf.gid) < 0 ||
        setuid(conf.uid) < 0) {
        e.err = errno;
        goto out;
    }
    if (chdir(conf.cwd) < 0) {
        e = (struct child_error){ 2, errno };
        goto out;
    }
    clearenv();
    for (unsigned i = 0; i < conf.nr_env; i++)
        putenv((char *)conf.env[i]);
    execvp(conf.argv[0], (char *const *)conf.argv);
    e = (struct child_error){ 1, errno };
out:
    if (write(report, &e, sizeof(e)) < 0) {
        /* nothing left to tell it with */
    }
    _exit(HOSTROOT_EXIT_INIT);
}

/*
 * The keeper: the leader of a session on the console (so that Ctrl-C
 * reaches the command), in which the command runs, and which ends only once
 * the command's output has left the UART. When a session leader exits, the
 * kernel hangs up its controlling terminal, and a hang-up discards what is
 * still queued for the UART: had the command led the session, the tail of
 * its output would be lost whenever the UART had not sent it all by the
 * command's exit (output stopped by ^S, a port the kernel resumes from
 * runtime suspend in the background, a slow host). Exits with the
 * command's status (128 + n for a signal n).
 */
static const int keeper_ignores[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTOU };

static void __attribute__((noreturn)) keeper(int report)
{
    pid_t pid, w;
    int st;

    exit_drop();
    setsid();
    ioctl(STDIN_FILENO, TIOCSCTTY, 0);
    /* In the command's process group: Ctrl-C is the command's, not ours;
     * and should the command leave another group in the foreground, the
     * drain must not stop us (SIGTTOU). */
    for (unsigned i = 0; i < sizeof(keeper_ignores) / sizeof(keeper_ignores[0]); i++)
        signal(keeper_ignores[i], SIG_IGN);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "vmm-init: fork: %s\n", strerror(errno));
        _exit(HOSTROOT_EXIT_INIT);
    }
    if (pid == 0) {
        /* exec() keeps what is ignored: the command gets the defaults. */
        for (unsigned i = 0; i < sizeof(keeper_ignores) / sizeof(keeper_ignores[0]); i++)
            signal(keeper_ignores[i], SIG_DFL);
        command(report);
    }
    close(report);
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0) {
        fprintf(stderr, "vmm-init: wait: %s\n", strerror(errno));
        _exit(HOSTROOT_EXIT_INIT);
    }
    drain_console();
    _exit(WIFSIGNALED(st) ? HOSTROOT_EXIT_SIGNAL + WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    int report[2];
    struct child_error e;
    ssize_t n;
    pid_t pid, w;
    int st, r;

    if (getpid() != 1) {
        fprintf(stderr, "vmm-init: the init of a `vmm run --host-root` guest, not a command\n");
        return 2;
    }
    /* The kernel opened /dev/console for us when the initramfs has it. */
    if (fcntl(STDERR_FILENO, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR);

        if (fd >= 0) {
            dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
            if (fd > 2)
                close(fd);
        }
    }
    make_dir("/proc", 0555);
    make_dir("/sys", 0555);
    make_dir("/dev", 0755);
    do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    do_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    do_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    r = exit_prepare();
    if (r < 0)
        fail(HOSTROOT_EXIT_INIT, "cannot reach vmm's exit register: %s", strerror(-r));
    exit_ready = true;
    read_conf();
    set_up_root();

    if (pipe2(report, O_CLOEXEC) < 0)
        fail(HOSTROOT_EXIT_INIT, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        fail(HOSTROOT_EXIT_INIT, "fork: %s", strerror(errno));
    if (pid == 0)
        keeper(report[1]);
    close(report[1]);
    while ((n = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == sizeof(e)) {
        if (e.stage == 0)
            fail(HOSTROOT_EXIT_INIT, "cannot run as uid %u gid %u: %s", conf.uid, conf.gid,
                 strerror(e.err));
        if (e.stage == 2)
            fail(HOSTROOT_EXIT_INIT, "working directory %s (as uid %u): %s", conf.cwd,
                 conf.uid, strerror(e.err));
        if (e.err == ENOENT)
            fail(HOSTROOT_EXIT_NOTFOUND, "%s: command not found", conf.argv[0]);
        fail(HOSTROOT_EXIT_NOEXEC, "%s: cannot execute: %s", conf.argv[0], strerror(e.err));
    }
    /* PID 1 reaps every orphan; the keeper's end, with the command's
     * status, is the VM's. */
    for (;;) {
        w = waitpid(-1, &st, 0);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail(HOSTROOT_EXIT_INIT, "wait: %s", strerror(errno));
        if (w == pid)
            break;
    }
    end_vm(WIFSIGNALED(st) ? HOSTROOT_EXIT_SIGNAL + WTERMSIG(st) : WEXITSTATUS(st));
}
