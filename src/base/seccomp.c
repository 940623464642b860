/*
 * seccomp allow-lists, one table per kind of thread (include/vmm/seccomp.h
 * says in which order they are installed). Each entry names a system call
 * by libseccomp's name, so that one table serves both architectures: a name
 * that does not exist on this one (open, poll, stat on aarch64) is skipped.
 * The comment after each entry says who needs it. To add a thread kind:
 * a table, a line in kinds[], and a vmm_seccomp_enter() at the start of the
 * thread; its creator's kind lists it in children.
 *
 * A forbidden call traps (SIGSYS): the handler writes one line naming the
 * thread kind and the call, and ends the process with status 127 at once
 * (_exit: a thread that made a forbidden call may be under a guest's
 * control, so nothing else of vmm runs, not even the orderly stop).
 *
 * Test hook, not a user interface: VMM_TEST_SECCOMP_VIOLATION=KIND (main,
 * serve, vcpu, stdin) makes that thread call socket() once its filter is
 * in place (tests/integration/seccomp-violation.sh). No list allows it, so
 * with the filters on it always ends vmm; without them it does nothing.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/seccomp.h"

enum rule_op {
    R_ANY,     /* any arguments */
    R_EQ,      /* argument @arg == @value */
    R_MASKED,  /* (argument @arg & @mask) == @value */
    R_ERRNO,   /* refused with the errno @value rather than trapped */
};

struct rule {
    const char *name;
    enum rule_op op;
    unsigned arg;
    uint64_t mask, value;
};

#define ALLOW(n)               { n, R_ANY, 0, 0, 0 }
#define ALLOW_EQ(n, a, v)      { n, R_EQ, a, 0, v }
#define ALLOW_MASKED(n, a, m, v) { n, R_MASKED, a, m, v }
#define REFUSE(n, e)           { n, R_ERRNO, 0, 0, e }
#define ENOSYS_FOR(n)          REFUSE(n, ENOSYS)
#define END                    { NULL, R_ANY, 0, 0, 0 }

/* Every thread: glibc and GLib underneath everything vmm does. */
static const struct rule common_rules[] = {
    ALLOW("futex"),            /* GMutex, GCond, glibc's locks */
    ALLOW("write"),            /* vmm_log() lines, console output, GLib wakeups (eventfd) */
    ALLOW("writev"),           /* stdio on stderr */
    ALLOW("exit"),             /* a thread's end */
    ALLOW("exit_group"),       /* the process's end, and the SIGSYS handler's */
    ALLOW("rt_sigreturn"),     /* return from the vCPU kick (SIGUSR1) and GLib's signal handler */
    ALLOW("rt_sigprocmask"),   /* pthread_kill() and a thread's end block signals */
    ALLOW("sigaltstack"),      /* a thread's signal stack (the sanitizers set one per thread) */
    ALLOW_EQ("prctl", 0, PR_GET_DUMPABLE), /* read only: the sanitizers ask it as threads end */
    ALLOW("restart_syscall"),  /* a sleep interrupted by the kick */
    ALLOW("brk"),              /* malloc */
    ALLOW_MASKED("mmap", 2, PROT_EXEC, 0),     /* malloc, thread stacks; never executable */
    ALLOW_MASKED("mprotect", 2, PROT_EXEC, 0), /* malloc arenas, stack guards; never executable */
    ALLOW("munmap"),           /* free, teardown */
    ALLOW("mremap"),           /* realloc of large blocks (GString, GArray) */
    ALLOW("madvise"),          /* free, a thread's end (its stack) */
    ALLOW("clock_gettime"),    /* g_get_monotonic_time(), when the vDSO falls back */
    ALLOW("gettimeofday"),     /* g_get_real_time(), the same */
    ALLOW("clock_nanosleep"),  /* nanosleep(), g_usleep() */
    ALLOW("nanosleep"),        /* the same, on older glibc */
    ALLOW("sched_yield"),      /* GLib's and glibc's lock back-off */
    ALLOW("getpid"),           /* pthread_kill() (glibc asks for the pid each time) */
    ALLOW("gettid"),           /* the same */
    ALLOW("tgkill"),           /* pthread_kill(): the vCPU kick (vm_stop, vm_pause), abort() */
    END,
};

/* A thread that starts threads, and a new thread's first steps before it
 * installs its own filter (it runs under its creator's until then). */
static const struct rule spawn_rules[] = {
    ALLOW_MASKED("clone", 0, CLONE_THREAD, CLONE_THREAD), /* pthread_create: threads, never a process */
    ENOSYS_FOR("clone3"),      /* its flags are out of a filter's sight: glibc falls back to clone */
    ALLOW("set_robust_list"),  /* glibc, in every new thread */
    ALLOW("rseq"),             /* the same */
    ALLOW_EQ("prctl", 0, PR_SET_NAME),         /* pthread_setname_np() of vcpuN, stdin */
    ALLOW_EQ("prctl", 0, PR_SET_NO_NEW_PRIVS), /* libseccomp, when the thread adds its filter */
    ALLOW("seccomp"),          /* the thread adds its own filter: filters only narrow */
    END,
};

/* vm_start() on a main thread after its filter: the VM's policy goes into
 * KVM before the vCPU threads start (arch_vm_apply_policy()). */
static const struct rule start_rules[] = {
    ALLOW_EQ("ioctl", 1, KVM_HAS_DEVICE_ATTR), /* aarch64: is there an SMCCC filter */
    ALLOW_EQ("ioctl", 1, KVM_SET_DEVICE_ATTR), /* aarch64: the SMCCC filter ranges */
    ALLOW_EQ("ioctl", 1, KVM_GET_ONE_REG),     /* aarch64: the firmware service bitmaps */
    ALLOW_EQ("ioctl", 1, KVM_SET_ONE_REG),     /* the same */
    END,
};

/* A vCPU thread (src/core/vcpu.c and what its exits reach: devices, calls,
 * ucall, the arch exit handlers). */
static const struct rule vcpu_rules[] = {
    ALLOW_EQ("ioctl", 1, KVM_RUN),             /* the vCPU loop; x86 vmcall completion */
    ALLOW_EQ("ioctl", 1, KVM_GET_REGS),        /* x86 vmcall, crash dumps */
    ALLOW_EQ("ioctl", 1, KVM_SET_REGS),        /* x86 vmcall results */
    ALLOW_EQ("ioctl", 1, KVM_GET_SREGS),       /* x86 crash dumps, S3 resume */
    ALLOW_EQ("ioctl", 1, KVM_SET_SREGS),       /* x86 S3 resume: real mode at the waking vector */
    ALLOW_EQ("ioctl", 1, KVM_GET_VCPU_EVENTS), /* x86 vmcall: #UD injection */
    ALLOW_EQ("ioctl", 1, KVM_SET_VCPU_EVENTS), /* the same */
    ALLOW_EQ("ioctl", 1, KVM_GET_ONE_REG),     /* aarch64 SMCCC/PSCI arguments, crash dumps */
    ALLOW_EQ("ioctl", 1, KVM_SET_ONE_REG),     /* aarch64 SMCCC results */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE),        /* device interrupts (UART) */
    ALLOW_EQ("ioctl", 1, KVM_SIGNAL_MSI),      /* x86 KVM_HC_SEND_IPI; a virtio function's MSI-X
                                                * (unmasking a pending vector, a broken queue) */
    ALLOW_EQ("ioctl", 1, KVM_IOEVENTFD),       /* a virtio BAR's notify region follows the BAR */
    ALLOW_EQ("ioctl", 1, KVM_SET_GSI_ROUTING), /* a vhost-backed virtio function's MSI-X routes
                                                * follow its table and Message Control */
    ALLOW_EQ("ioctl", 1, KVM_IRQFD),           /* and its backend's call eventfds follow them */
    END,
};

/* The console input thread (src/core/console_input.c). */
static const struct rule stdin_rules[] = {
    ALLOW("read"),                       /* standard input */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE),  /* the UART's receive interrupt */
    END,
};

/* An output thread: a bounded queue's writer (log lines, console output)
 * that polls its descriptor and writes; started before the filters, it
 * narrows itself with vmm_seccomp_adopt(). */
static const struct rule output_rules[] = {
    ALLOW("poll"),             /* is the descriptor writable (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    END,
};

/* A virtio device's worker (src/devices/virtio_pci.c): waits on its
 * eventfd, moves buffers between guest memory and the console, raises its
 * interrupt (INTx or an MSI-X message). Started with its VM, it narrows
 * itself with vmm_seccomp_adopt(). */
static const struct rule device_rules[] = {
    ALLOW("poll"),             /* its eventfd (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* the same */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE), /* its INTx line */
    ALLOW_EQ("ioctl", 1, KVM_SIGNAL_MSI), /* its MSI-X messages */
    ALLOW("getrandom"),        /* virtio-rng's bytes */
    END,
};

/* A virtio-blk device's worker (src/devices/virtio_blk.c): the device
 * worker's loop, and the image's I/O on a descriptor opened before. */
static const struct rule block_io_rules[] = {
    ALLOW("poll"),             /* its eventfd (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* the same */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE), /* its INTx line */
    ALLOW_EQ("ioctl", 1, KVM_SIGNAL_MSI), /* its MSI-X messages */
    ALLOW("preadv"),           /* reads, straight into guest RAM */
    ALLOW("pwritev"),          /* writes, straight from guest RAM */
    ALLOW("fdatasync"),        /* flush */
    ALLOW("fallocate"),        /* discard (PUNCH_HOLE), write zeroes (ZERO_RANGE) */
    END,
};

/* A virtio-vsock device's worker (src/devices/virtio_vsock.c): the device
 * worker's loop, and exactly the vhost ioctls that hand the driver's rings
 * to the kernel's vhost-vsock at DRIVER_OK and take them back at a reset
 * (the descriptor was opened, owned and given its CID at the VM's build). */
static const struct rule vsock_rules[] = {
    ALLOW("poll"),             /* its eventfd (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* the same */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE),            /* its INTx line */
    ALLOW_EQ("ioctl", 1, KVM_SIGNAL_MSI),          /* its MSI-X messages */
    ALLOW_EQ("ioctl", 1, VHOST_SET_FEATURES),      /* start: what the driver accepted */
    ALLOW_EQ("ioctl", 1, VHOST_SET_MEM_TABLE),     /* start: guest RAM */
    ALLOW_EQ("ioctl", 1, VHOST_SET_VRING_NUM),     /* start: each ring */
    ALLOW_EQ("ioctl", 1, VHOST_SET_VRING_BASE),    /* the same */
    ALLOW_EQ("ioctl", 1, VHOST_SET_VRING_ADDR),    /* the same */
    ALLOW_EQ("ioctl", 1, VHOST_SET_VRING_KICK),    /* the same */
    ALLOW_EQ("ioctl", 1, VHOST_SET_VRING_CALL),    /* the same */
    ALLOW_EQ("ioctl", 1, VHOST_VSOCK_SET_RUNNING), /* start and stop */
    ALLOW_EQ("ioctl", 1, KVM_IRQFD),               /* a reset unbinds its call eventfds */
    END,
};

/* A virtio-fs device's worker (src/devices/virtio_fs.c): the device
 * worker's loop, and vhost-user messages to its virtiofsd when the driver
 * starts or resets the device. */
static const struct rule fs_rules[] = {
    ALLOW("poll"),             /* its eventfds, the daemon's socket (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* its eventfds */
    ALLOW_EQ("ioctl", 1, KVM_IRQ_LINE), /* its INTx line */
    ALLOW_EQ("ioctl", 1, KVM_SIGNAL_MSI), /* its MSI-X messages */
    ALLOW_EQ("ioctl", 1, KVM_IRQFD), /* a reset unbinds its call eventfds */
    ALLOW("sendmsg"),          /* vhost-user requests, with eventfds (SCM_RIGHTS) */
    ALLOW("recvmsg"),          /* their replies */
    ALLOW("close"),            /* a descriptor the daemon sent unasked */
    ALLOW("wait4"),            /* how a daemon that stopped answering ended */
    ALLOW("waitid"),           /* the watch thread: how it ended, without reaping it */
    END,
};

/* vmm run's main loop, once the VM runs (src/cli/serve.c, without --qmp). */
static const struct rule main_rules[] = {
    ALLOW("poll"),             /* GLib's main loop (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* GLib's wakeups (eventfd) */
    ALLOW("close"),            /* teardown: vCPU, VM, KVM and console fds */
    ALLOW("rt_sigaction"),     /* GLib's signal sources */
    ALLOW("fstat"),            /* console_start_input(): what standard input is */
    ALLOW("newfstatat"),       /* the same (glibc's fstat) */
    ALLOW_EQ("ioctl", 1, TCGETS), /* the same: isatty() */
    ALLOW("kill"),             /* teardown: a share's virtiofsd is stopped */
    ALLOW("wait4"),            /* and reaped */
    END,
};

/* vmm serve's and vmm run --qmp's main loop (src/cli/serve.c, the QMP
 * server, the manager): it creates, resets and destroys VMs and serves
 * clients for as long as it runs. */
static const struct rule serve_rules[] = {
    ALLOW("poll"),             /* GLib's main loop (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* GLib's wakeups; config, firmware, kernel, initrd files */
    ALLOW("pread64"),          /* the same */
    ALLOW("lseek"),            /* the same */
    ALLOW("close"),            /* files, clients, a destroyed VM's fds */
    ALLOW("rt_sigaction"),     /* GLib's signal sources */
    ALLOW("openat"),           /* vm-create: configs, images, console files */
    ALLOW("ftruncate"),        /* vm-create: a console file is truncated (after fstat says regular) */
    ALLOW("flock"),            /* vm-create: a disk image is locked (virtio-blk) */
    ALLOW("fallocate"),        /* the same: what it supports is probed past its end */
    ALLOW("open"),             /* the same, where it exists */
    ALLOW("fstat"),            /* is it a regular file, its size */
    ALLOW("newfstatat"),       /* the same (glibc's fstat and stat) */
    ALLOW("stat"),             /* the same, where it exists */
    ALLOW("lstat"),            /* the socket path at exit: never remove a non-socket */
    ALLOW("statx"),            /* the same, newer glibc */
    ALLOW("access"),           /* g_file_test() on firmware paths */
    ALLOW("faccessat"),        /* the same */
    ALLOW("faccessat2"),       /* the same */
    ALLOW("readlink"),         /* /proc/self/exe: bundled firmware beside the binary */
    ALLOW("readlinkat"),       /* the same */
    ALLOW("getcwd"),           /* relative paths in inline configs */
    ALLOW("fcntl"),            /* non-blocking fds */
    ALLOW("sysinfo"),          /* config: the host's RAM, the ceiling for a VM's */
    ALLOW("uname"),            /* glibc, GLib */
    ALLOW("getrandom"),        /* GLib's hash tables and random numbers */
    ALLOW("eventfd2"),         /* GLib wakeups of new main contexts */
    ALLOW_MASKED("ioctl", 1, 0xff00, KVMIO << 8), /* KVM: creating, configuring, resetting VMs */
    ALLOW_EQ("ioctl", 1, VHOST_SET_OWNER),         /* vm-create: a vsock device (vhost-vsock) */
    ALLOW_EQ("ioctl", 1, VHOST_GET_FEATURES),      /* the same */
    ALLOW_EQ("ioctl", 1, VHOST_VSOCK_SET_GUEST_CID), /* the same: its CID */
    ALLOW_EQ("ioctl", 1, TCGETS),  /* isatty() */
    ALLOW("accept4"),          /* control socket clients */
    ALLOW("accept"),           /* the same */
    ALLOW("recvfrom"),         /* recv() from a client */
    ALLOW("sendto"),           /* send() to a client */
    ALLOW("recvmsg"),          /* the same */
    ALLOW("sendmsg"),          /* the same */
    ALLOW("shutdown"),         /* closing a client */
    ALLOW("unlink"),           /* the socket at exit */
    ALLOW("unlinkat"),         /* the same */
    ALLOW("kill"),             /* vm-destroy: a share's virtiofsd is stopped */
    ALLOW("wait4"),            /* and reaped */
    END,
};

/* A worker of vmm serve --workers on once its VM is built and it is
 * confined (src/cli/worker_main.c): serve's list without what only
 * building a VM or serving clients needs. Opening a path is refused with
 * EACCES rather than trapped: its root is empty and Landlock denies it
 * anyway, and a library that tries should see an error, not a kill. */
static const struct rule worker_rules[] = {
    ALLOW("poll"),             /* GLib's main loop (x86_64) */
    ALLOW("ppoll"),            /* the same (aarch64) */
    ALLOW("read"),             /* GLib's wakeups (eventfd) */
    ALLOW("close"),            /* teardown: vCPU, VM, KVM and console fds */
    ALLOW("rt_sigaction"),     /* GLib's signal sources */
    ALLOW("fstat"),            /* glibc, GLib: what a descriptor is */
    ALLOW("newfstatat"),       /* the same (glibc's fstat) */
    ALLOW("statx"),            /* the same, newer glibc */
    ALLOW("fcntl"),            /* non-blocking fds */
    ALLOW("sysinfo"),          /* glibc */
    ALLOW("uname"),            /* glibc, GLib */
    ALLOW("getrandom"),        /* GLib's hash tables and random numbers */
    ALLOW("eventfd2"),         /* GLib wakeups; device notifications at start */
    ALLOW_MASKED("ioctl", 1, 0xff00, KVMIO << 8), /* KVM: starting, pausing, resetting its VM */
    ALLOW_EQ("ioctl", 1, TCGETS),  /* isatty() */
    ALLOW("recvfrom"),         /* the manager's channel */
    ALLOW("sendto"),           /* the same */
    ALLOW("recvmsg"),          /* the same */
    ALLOW("sendmsg"),          /* the same */
    ALLOW("shutdown"),         /* the same, at its end */
    ALLOW("kill"),             /* teardown: a share's virtiofsd (started at build) is stopped */
    ALLOW("wait4"),            /* and reaped */
    ALLOW("landlock_restrict_self"), /* sandbox_adopt() in a thread that predates it: narrows only */
    ALLOW("capset"),           /* the same: drops only (no capability is left to raise with) */
    REFUSE("openat", EACCES),  /* nothing to open: see above */
    REFUSE("open", EACCES),
    REFUSE("access", EACCES),
    REFUSE("faccessat", EACCES),
    REFUSE("faccessat2", EACCES),
    REFUSE("readlink", EACCES),
    REFUSE("readlinkat", EACCES),
    END,
};

static const struct {
    const char *name;                       /* in the violation line, and the test hook's value */
    const struct rule *rules;
    bool tsync;                             /* a main thread: for every thread there is */
    enum vmm_thread_kind children[7];       /* threads under its filter: started later (they
                                             * inherit it) or before (TSYNC gives it them) */
    unsigned nr_children;
} kinds[VMM_THREAD_KINDS] = {
    [VMM_THREAD_MAIN] = { "main", main_rules, true,
                          { VMM_THREAD_VCPU, VMM_THREAD_STDIN, VMM_THREAD_OUTPUT,
                            VMM_THREAD_DEVICE, VMM_THREAD_BLOCK_IO, VMM_THREAD_VSOCK, VMM_THREAD_FS }, 7 },
    [VMM_THREAD_SERVE] = { "serve", serve_rules, true,
                           { VMM_THREAD_VCPU, VMM_THREAD_STDIN, VMM_THREAD_OUTPUT,
                             VMM_THREAD_DEVICE, VMM_THREAD_BLOCK_IO, VMM_THREAD_VSOCK, VMM_THREAD_FS }, 7 },
    [VMM_THREAD_WORKER] = { "worker", worker_rules, true,
                            { VMM_THREAD_VCPU, VMM_THREAD_STDIN, VMM_THREAD_OUTPUT,
                              VMM_THREAD_DEVICE, VMM_THREAD_BLOCK_IO, VMM_THREAD_VSOCK, VMM_THREAD_FS }, 7 },
    [VMM_THREAD_VCPU] = { "vcpu", vcpu_rules, false, { 0 }, 0 },
    [VMM_THREAD_STDIN] = { "stdin", stdin_rules, false, { 0 }, 0 },
    [VMM_THREAD_OUTPUT] = { "output", output_rules, false, { 0 }, 0 },
    [VMM_THREAD_DEVICE] = { "device", device_rules, false, { 0 }, 0 },
    [VMM_THREAD_BLOCK_IO] = { "block-io", block_io_rules, false, { 0 }, 0 },
    [VMM_THREAD_VSOCK] = { "vsock", vsock_rules, false, { 0 }, 0 },
    [VMM_THREAD_FS] = { "fs", fs_rules, false, { 0 }, 0 },
};

/* A sanitizer's runtime makes system calls of its own at any time (leak
 * checking stops the world with ptrace at exit, threads ask prctl and set
 * signal stacks): a sanitizer build runs without filters. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VMM_SANITIZER_BUILD true
#else
#define VMM_SANITIZER_BUILD false
#endif
static bool disabled = VMM_SANITIZER_BUILD;
static int process_filtered;    /* a main kind's filter is on, for every thread */
static __thread bool adopted;   /* this thread has narrowed to its own list */
/* Set in each thread before its filter: the SIGSYS handler's "thread X". */
static __thread const char *thread_kind;

/* Read before any filter, so that the handler never allocates. */
#define NR_NAMES 1024
static char *syscall_names[NR_NAMES];
static uint32_t native_arch;
static const char *violation_hook; /* VMM_TEST_SECCOMP_VIOLATION */
static int reported;               /* one line, even when threads trap at once */

void vmm_seccomp_disable(void)
{
    disabled = true;
}

bool vmm_seccomp_enabled(void)
{
    return !disabled;
}

bool vmm_seccomp_process_filtered(void)
{
    return __atomic_load_n(&process_filtered, __ATOMIC_ACQUIRE);
}

static void put(char *buf, size_t *n, size_t cap, const char *s)
{
    while (*s && *n < cap)
        buf[(*n)++] = *s++;
}

static void put_int(char *buf, size_t *n, size_t cap, long v)
{
    char digits[24];
    size_t k = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

    do
        digits[k++] = '0' + u % 10;
    while ((u /= 10) && k < sizeof(digits));
    if (v < 0 && *n < cap)
        buf[(*n)++] = '-';
    while (k && *n < cap)
        buf[(*n)++] = digits[--k];
}

/* Async-signal-safe: fixed buffer, write(2), _exit(2). */
static void on_sigsys(int sig, siginfo_t *si, void *ucontext)
{
    char buf[320];
    size_t n = 0;
    int nr = si->si_syscall;
    const char *name = NULL;

    /* A second thread that traps waits for the first to end the process. */
    if (__atomic_exchange_n(&reported, 1, __ATOMIC_SEQ_CST))
        for (;;) {
            struct timespec t = { 1, 0 };

            nanosleep(&t, NULL);
        }
    if (si->si_arch == native_arch && nr >= 0 && nr < NR_NAMES)
        name = syscall_names[nr];
    put(buf, &n, sizeof(buf), "vmm: seccomp: thread ");
    put(buf, &n, sizeof(buf), thread_kind ? thread_kind : "(GLib's)");
    put(buf, &n, sizeof(buf), " made forbidden system call ");
    put(buf, &n, sizeof(buf), name ? name : "unknown");
    put(buf, &n, sizeof(buf), " (");
    put_int(buf, &n, sizeof(buf), nr);
    if (si->si_arch != native_arch)
        put(buf, &n, sizeof(buf), ", another ABI");
    put(buf, &n, sizeof(buf), ") \xe2\x80\x94 this is a bug in vmm; rerun with --no-seccomp to debug\n");
    if (write(STDERR_FILENO, buf, n) < 0) {
        /* nothing left to report it on */
    }
    _exit(VMM_EXIT_KVM_ERROR);
}

static void init_once(void)
{
    static gsize done;

    if (!g_once_init_enter(&done))
        return;
    struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

    native_arch = seccomp_arch_native();
    for (int nr = 0; nr < NR_NAMES; nr++)
        syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    violation_hook = g_getenv("VMM_TEST_SECCOMP_VIOLATION");
    /* SIGSYS must reach the handler in every thread: the handler stays
     * for the whole process, and each filtered thread unblocks it. */
    sigfillset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, NULL);
    g_once_init_leave(&done, 1);
}

static int add_rules(scmp_filter_ctx ctx, const struct rule *r)
{
    for (; r->name; r++) {
        int nr = seccomp_syscall_resolve_name(r->name);
        int e;

        if (nr < 0)
            continue; /* not a system call on this architecture */
        switch (r->op) {
        case R_ANY:
            e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
            break;
        case R_EQ:
            e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                 SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value));
            break;
        case R_MASKED:
            e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                 SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->mask, r->value));
            break;
        default:
            e = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(r->value), nr, 0);
            break;
        }
        /* The same call in two lists of a union is no conflict. */
        if (e < 0 && e != -EEXIST)
            return e;
    }
    return 0;
}

/* Loads the union of @lists (a filter for the calling thread, or with
 * @tsync for every thread of the process). */
static bool load(const char *kind, const struct rule *const *lists, unsigned n, bool tsync,
                 GError **error)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    sigset_t sys;
    int e = ctx ? 0 : -ENOMEM;

    if (!e)
        e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
    if (!e && tsync)
        e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    for (unsigned i = 0; !e && i < n; i++)
        e = add_rules(ctx, lists[i]);
    thread_kind = kind;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
    if (!e)
        e = seccomp_load(ctx);
    seccomp_release(ctx);
    if (e) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "seccomp: cannot install the filter of thread %s: %s (--no-seccomp "
                    "runs without)", kind, g_strerror(e < 0 ? -e : e));
        return false;
    }
    return true;
}

/* The test hook: a forbidden call, on purpose, right after the filter. */
static void maybe_violate(enum vmm_thread_kind kind)
{
    if (violation_hook && !strcmp(violation_hook, kinds[kind].name)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        if (fd >= 0)
            close(fd);
    }
}

bool vmm_seccomp_enter(enum vmm_thread_kind kind, GError **error)
{
    const struct rule *lists[4 + G_N_ELEMENTS(kinds[0].children)];
    unsigned n = 0;

    if (disabled)
        return true;
    init_once();
    /* g_strerror() reads the locale's charset files the first time: let it
     * do so now, before a thread that reports an error may no longer open
     * files. */
    g_get_charset(NULL);
    (void)g_strerror(EPIPE);
    lists[n++] = common_rules;
    lists[n++] = kinds[kind].rules;
    if (kinds[kind].nr_children) {
        lists[n++] = spawn_rules;
        lists[n++] = start_rules;
        for (unsigned i = 0; i < kinds[kind].nr_children; i++)
            lists[n++] = kinds[kinds[kind].children[i]].rules;
    }
    if (!load(kinds[kind].name, lists, n, kinds[kind].tsync, error))
        return false;
    if (kinds[kind].tsync)
        __atomic_store_n(&process_filtered, 1, __ATOMIC_RELEASE);
    if (kind != VMM_THREAD_MAIN)
        maybe_violate(kind);
    return true;
}

bool vmm_seccomp_narrow(enum vmm_thread_kind kind, GError **error)
{
    const struct rule *lists[] = { common_rules, kinds[kind].rules };

    if (disabled)
        return true;
    if (!load(kinds[kind].name, lists, G_N_ELEMENTS(lists), false, error))
        return false;
    maybe_violate(kind);
    return true;
}

static void (*adopt_hook)(void);

void vmm_seccomp_on_adopt(void (*hook)(void))
{
    __atomic_store_n(&adopt_hook, hook, __ATOMIC_RELEASE);
}

void vmm_seccomp_adopt(enum vmm_thread_kind kind)
{
    const struct rule *lists[] = { common_rules, kinds[kind].rules };
    GError *error = NULL;

    if (adopted || !__atomic_load_n(&process_filtered, __ATOMIC_ACQUIRE))
        return;
    adopted = true;
    /* A worker's sandbox, entered after this thread started, first. */
    void (*hook)(void) = __atomic_load_n(&adopt_hook, __ATOMIC_ACQUIRE);

    if (hook)
        hook();
    /* Until now it ran under the main thread's list (TSYNC); the new
     * filter stacks on that one. */
    if (!load(kinds[kind].name, lists, G_N_ELEMENTS(lists), false, &error))
        g_clear_error(&error); /* it stays under the main thread's list */
    else
        maybe_violate(kind);
}
