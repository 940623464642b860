/* The seccomp allow-lists without KVM: a forked child installs one thread
 * kind's filter and makes calls; what it may do runs, what it may not ends
 * it with status 127 and the line naming the call. */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/seccomp.h"

#include "unit.h"

typedef void (*body_fn)(void);

/* Runs @body in a child under @kind's filter (and, for a main kind, its
 * narrowed list when @narrow); its exit status (or 1000 + signal) and,
 * in @err, what it wrote to stderr. */
static int in_child(enum vmm_thread_kind kind, bool narrow, body_fn body, char *err, size_t cap)
{
    int p[2], st;
    ssize_t n, got = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        GError *error = NULL;

        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        if (!vmm_seccomp_enter(kind, &error) || (narrow && !vmm_seccomp_narrow(kind, &error)))
            _exit(50);
        body();
        _exit(0);
    }
    close(p[1]);
    while (got < (ssize_t)cap - 1 && (n = read(p[0], err + got, cap - 1 - got)) > 0)
        got += n;
    err[got] = 0;
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

/* The child died of @name, with the line. */
static void expect_killed_by(int status, const char *err, const char *kind, const char *name)
{
    char want[128];

    g_snprintf(want, sizeof(want), "vmm: seccomp: thread %s made forbidden system call %s (",
               kind, name);
    ck_assert_msg(status == 127, "status %d, stderr: %s", status, err);
    ck_assert_msg(g_str_has_prefix(err, want), "stderr: %s", err);
    ck_assert(strstr(err, "\xe2\x80\x94 this is a bug in vmm; rerun with --no-seccomp to debug\n"));
}

static void vcpu_allowed(void)
{
    /* The vCPU ioctls pass the filter (and fail on a bad fd), as do
     * writes, locks, memory and the kick. */
    if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
        _exit(2);
    if (ioctl(-1, KVM_IRQ_LINE, 0) != -1 || errno != EBADF)
        _exit(3);
    if (write(STDOUT_FILENO, "", 0) < 0)
        _exit(4);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || munmap(m, 1 << 20) < 0)
        _exit(5);
    g_free(g_malloc(1 << 22));
    if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) < 0)
        _exit(6);
}

static void vcpu_socket(void) { socket(AF_INET, SOCK_STREAM, 0); }
static void vcpu_create_vm(void) { ioctl(-1, KVM_CREATE_VM, 0); }
static void vcpu_open(void) { open("/dev/null", O_RDONLY); }
static void vcpu_exec_mem(void)
{
    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void serve_fork(void)
{
    /* clone3 is refused with ENOSYS (its flags are out of sight); a plain
     * clone without CLONE_THREAD (a new process) traps. */
    if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
        _exit(7);
    syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}
static void serve_allowed(void)
{
    int fd = open("/dev/null", O_RDONLY);

    if (fd < 0 || close(fd) < 0)
        _exit(8);
}
static void serve_execve(void)
{
    char *argv[] = { "/bin/true", NULL };

    execve(argv[0], argv, argv + 1);
}

START_TEST(vcpu_list)
{
    char err[512];
    int st;

    st = in_child(VMM_THREAD_VCPU, false, vcpu_allowed, err, sizeof(err));
    ck_assert_msg(st == 0, "status %d, stderr: %s", st, err);
    st = in_child(VMM_THREAD_VCPU, false, vcpu_socket, err, sizeof(err));
    expect_killed_by(st, err, "vcpu", "socket");
    st = in_child(VMM_THREAD_VCPU, false, vcpu_create_vm, err, sizeof(err));
    expect_killed_by(st, err, "vcpu", "ioctl");
    st = in_child(VMM_THREAD_VCPU, false, vcpu_open, err, sizeof(err));
    expect_killed_by(st, err, "vcpu", "openat");
    st = in_child(VMM_THREAD_VCPU, false, vcpu_exec_mem, err, sizeof(err));
    expect_killed_by(st, err, "vcpu", "mmap");
    st = in_child(VMM_THREAD_STDIN, false, vcpu_create_vm, err, sizeof(err));
    expect_killed_by(st, err, "stdin", "ioctl");
}
END_TEST

START_TEST(main_lists)
{
    char err[512];
    int st;

    /* vmm run's main thread before narrowing also allows what its vCPU
     * threads need (they inherit it); after, only its own list. */
    st = in_child(VMM_THREAD_MAIN, false, vcpu_allowed, err, sizeof(err));
    ck_assert_msg(st == 0, "status %d, stderr: %s", st, err);
    st = in_child(VMM_THREAD_MAIN, true, vcpu_create_vm, err, sizeof(err));
    expect_killed_by(st, err, "main", "ioctl");
    st = in_child(VMM_THREAD_MAIN, true, vcpu_open, err, sizeof(err));
    expect_killed_by(st, err, "main", "openat");
    st = in_child(VMM_THREAD_SERVE, false, serve_allowed, err, sizeof(err));
    ck_assert_msg(st == 0, "status %d, stderr: %s", st, err);
    st = in_child(VMM_THREAD_SERVE, false, serve_fork, err, sizeof(err));
    expect_killed_by(st, err, "serve", "clone");
    st = in_child(VMM_THREAD_SERVE, false, serve_execve, err, sizeof(err));
    expect_killed_by(st, err, "serve", "execve");
    st = in_child(VMM_THREAD_SERVE, false, vcpu_socket, err, sizeof(err));
    expect_killed_by(st, err, "serve", "socket");
}
END_TEST

/* An output thread started before the main filter: it adopts its own
 * list once that filter is on, and may then no longer read. */
static void *output_thread(void *arg)
{
    char c;

    vmm_seccomp_adopt(VMM_THREAD_OUTPUT); /* no main filter yet: nothing */
    while (!__atomic_load_n((int *)arg, __ATOMIC_ACQUIRE))
        sched_yield();
    vmm_seccomp_adopt(VMM_THREAD_OUTPUT);
    if (write(STDOUT_FILENO, "", 0) < 0)
        _exit(9);
    if (read(-1, &c, 1) != -1)
        _exit(10);
    return NULL;
}

START_TEST(output_adopts)
{
    int p[2], st;
    char err[512];
    ssize_t n, got = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static int go;
        pthread_t t;
        GError *error = NULL;

        dup2(p[1], STDERR_FILENO);
        pthread_create(&t, NULL, output_thread, &go);
        if (!vmm_seccomp_enter(VMM_THREAD_MAIN, &error))
            _exit(50);
        __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
        pthread_join(t, NULL);
        _exit(0);
    }
    close(p[1]);
    while (got < (ssize_t)sizeof(err) - 1 && (n = read(p[0], err + got, sizeof(err) - 1 - got)) > 0)
        got += n;
    err[got] = 0;
    close(p[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    expect_killed_by(WEXITSTATUS(st), err, "output", "read");
}
END_TEST

static void disable_then_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd >= 0)
        close(fd);
}

START_TEST(disabled)
{
    char err[512];
    pid_t pid = fork();
    int st;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        vmm_seccomp_disable();
        /* in_child() forks again: the grandchild inherits "disabled". */
        _exit(in_child(VMM_THREAD_VCPU, false, disable_then_socket, err, sizeof(err)));
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    /* A sanitizer build runs without filters (src/base/seccomp.c says why). */
    if (!vmm_seccomp_enabled()) {
        puts("SKIP: a sanitizer build has no seccomp filters");
        return 77;
    }
    s = suite_create("seccomp");
    tc = tcase_create("seccomp");

    tcase_add_test(tc, vcpu_list);
    tcase_add_test(tc, main_lists);
    tcase_add_test(tc, disabled);
    tcase_add_test(tc, output_adopts);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
