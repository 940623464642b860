/*
 * Worker processes of vmm serve --workers on, and `vmm __worker FD`, the
 * private entry point each one runs.
 *
 * vmm serve's filters forbid starting processes, and a filter outlives
 * execve(): so the manager starts, before its filters, one launcher
 * process (a fork of itself that only ever forks and execs workers, and
 * ends and reaps them, on the manager's request over a socketpair). A
 * worker is a fresh `vmm __worker 3` from that launcher, with its channel
 * to the manager on fd 3 (the launcher hands the manager the other end):
 * it opens /dev/kvm, drops its capabilities, installs serve's seccomp
 * filter and runs its one VM (worker_serve()). A worker dies with the
 * launcher, and the launcher with the manager.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/caps.h"
#include "vmm/cgroup.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/outbuf.h"
#include "vmm/sandbox.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"
#include "vmm/worker.h"

/* The worker's end of its channel: fd 3 in the worker, every time. */
#define WORKER_FD 3
/* How long a worker whose channel has closed may take to end by itself. */
#define WORKER_EXIT_MS 5000

/* A request to the launcher, and its answer. */
enum launcher_op { LAUNCH_SPAWN = 1, LAUNCH_REAP, LAUNCH_KILL_REAP };
struct launcher_req {
    int op;
    pid_t pid;                /* REAP, KILL_REAP */
    uint32_t vcpus;           /* SPAWN: the VM's size, for its cgroup's limits */
    uint64_t memory;
};
struct launcher_ans {
    pid_t pid;                /* SPAWN: the worker (its channel as SCM_RIGHTS); -errno */
    int status;               /* REAP: waitpid()'s status; -1: could not */
};

struct launcher {
    int fd;                   /* the manager's end */
    pid_t pid;
    GMutex lock;              /* one request at a time */
};

/* --- the launcher process (no GLib: it is a fork of a threaded process) ---- */

static void launcher_say(const char *what)
{
    static const char prefix[] = "vmm: worker launcher: ";

    if (write(2, prefix, sizeof(prefix) - 1) < 0 || write(2, what, strlen(what)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static int reap(pid_t pid, bool kill_it);

static pid_t launch(struct worker_options *o, const struct launcher_req *req, int *fd)
{
    char user[32];
    char *argv[8] = { "vmm", "__worker", "3" };
    int argc = 3, sv[2];
    bool own_pid_ns;
    pid_t pid;

    if (!o->seccomp)
        argv[argc++] = "--no-seccomp";
    if (!o->sandbox)
        argv[argc++] = "--no-sandbox";
    if (o->uid != SANDBOX_KEEP_ID) {
        snprintf(user, sizeof(user), "%u:%u", o->uid, o->gid);
        argv[argc++] = "--user";
        argv[argc++] = user;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    /* Its own PID namespace, where the host allows: it sees no process
     * but itself (it is that namespace's PID 1). */
    pid = o->sandbox ? sandbox_spawn(&own_pid_ns) : fork();
    if (pid < 0) {
        int e = errno;

        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (!pid) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with the launcher */
        if (dup2(sv[1], WORKER_FD) < 0) /* dup2 clears close-on-exec */
            _exit(VMM_EXIT_KVM_ERROR);
        execv("/proc/self/exe", argv);
        launcher_say("cannot run /proc/self/exe");
        _exit(VMM_EXIT_KVM_ERROR);
    }
    if (o->cgroup >= 0) {
        struct cgroup_limits limits;
        int e;

        cgroup_limits_for_vm(req->memory, req->vcpus, &limits);
        e = cgroup_worker_add(o->cgroup, pid, &limits);
        if (e < 0) {
            /* A limit that should apply and does not: no worker. */
            launcher_say("cannot put a worker in its cgroup");
            reap(pid, true);
            close(sv[0]);
            close(sv[1]);
            return e;
        }
    }
    if (o->cgroup_note[0]) {
        launcher_say(o->cgroup_note);
        o->cgroup_note[0] = '\0';
    }
    if (o->sandbox && !own_pid_ns && !o->warned_pid_ns) {
        launcher_say("no PID namespace for workers here (not permitted): each sees the "
                     "host's processes");
        o->warned_pid_ns = true;
    }
    close(sv[1]);
    *fd = sv[0];
    return pid;
}

static int reap(pid_t pid, bool kill_it)
{
    int st, waited = 0;
    pid_t r;

    if (kill_it)
        kill(pid, SIGKILL);
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && waited < WORKER_EXIT_MS) {
        usleep(1000);
        waited++;
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        r = waitpid(pid, &st, 0);
    }
    return r == pid ? st : -1;
}

static void send_answer(int sock, const struct launcher_ans *ans, int fd)
{
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { (void *)ans, sizeof(*ans) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        struct cmsghdr *c;

        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        launcher_say("cannot answer the manager");
}

static G_NORETURN void launcher_loop(int sock, struct worker_options *o)
{
    struct launcher_req req;
    ssize_t n;

    prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with the manager */
    while ((n = recv(sock, &req, sizeof(req), 0)) != 0) {
        struct launcher_ans ans = { 0 };
        int fd = -1;

        if (n < 0 && errno == EINTR)
            continue;
        if (n != sizeof(req))
            break;
        if (req.op == LAUNCH_SPAWN) {
            ans.pid = launch(o, &req, &fd);
        } else {
            ans.status = req.pid > 0 ? reap(req.pid, req.op == LAUNCH_KILL_REAP) : -1;
            if (ans.status != -1 && o->cgroup >= 0)
                cgroup_worker_remove(o->cgroup, req.pid);
        }
        send_answer(sock, &ans, fd);
        if (fd >= 0)
            close(fd);
    }
    if (o->cgroup >= 0)
        cgroup_workers_end(o->cgroup); /* ends its workers, and removes their groups */
    _exit(0); /* its workers die with it (their death signal) */
}

/* --- the manager's side -------------------------------------------------------- */

/* One request, one answer (and a descriptor with SPAWN). */
static bool ask(struct launcher *l, const struct launcher_req *req, struct launcher_ans *ans,
                int *fd)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { ans, sizeof(*ans) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof(control) };
    struct cmsghdr *c;
    ssize_t n;

    g_mutex_lock(&l->lock);
    n = send(l->fd, req, sizeof(*req), MSG_NOSIGNAL);
    if (n == sizeof(*req)) {
        do
            n = recvmsg(l->fd, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
    }
    g_mutex_unlock(&l->lock);
    if (n != sizeof(*ans))
        return false;
    c = CMSG_FIRSTHDR(&msg);
    if (fd && c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    return true;
}

static bool spawn_worker(const struct worker_launcher *wl, struct mvm *mv, int *fd,
                         void **handle, GError **error)
{
    struct launcher_req req = { .op = LAUNCH_SPAWN, .vcpus = mv->cfg.vcpus,
                                .memory = mv->cfg.memory };
    struct launcher_ans ans;

    *fd = -1;
    if (!ask(wl->data, &req, &ans, fd) || ans.pid <= 0 || *fd < 0) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "cannot create VM '%s': cannot start its worker: %s", mv->name,
                    ans.pid < 0 ? g_strerror(-ans.pid) : "the launcher has gone");
        if (*fd >= 0)
            close(*fd);
        return false;
    }
    *handle = GINT_TO_POINTER(ans.pid);
    return true;
}

static char *reap_worker(const struct worker_launcher *wl, void *handle, bool kill_it)
{
    struct launcher_req req = { .op = kill_it ? LAUNCH_KILL_REAP : LAUNCH_REAP,
                                .pid = GPOINTER_TO_INT(handle) };
    struct launcher_ans ans;

    if (!ask(wl->data, &req, &ans, NULL) || ans.status < 0)
        return g_strdup_printf("process %d: not reaped", (int)req.pid);
    if (WIFSIGNALED(ans.status))
        return g_strdup_printf("process %d killed by signal %d", (int)req.pid,
                               WTERMSIG(ans.status));
    if (WEXITSTATUS(ans.status))
        return g_strdup_printf("process %d exited with status %d", (int)req.pid,
                               WEXITSTATUS(ans.status));
    return NULL;
}

bool worker_launcher_start(struct worker_launcher *wl, const struct worker_options *o,
                           GError **error)
{
    struct worker_options opts = *o;
    struct launcher *l = g_new0(struct launcher, 1);
    int sv[2];

    opts.cgroup = -1;
    if (o->sandbox) {
        g_autofree char *tag = g_strdup_printf("vmm-serve-%d", (int)getpid());
        g_autofree char *note = NULL;

        opts.cgroup = cgroup_workers_setup(tag, &note);
        if (note) /* said with the first worker, as the other sandbox notes */
            g_strlcpy(opts.cgroup_note, note, sizeof(opts.cgroup_note));
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        (l->pid = fork()) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "cannot start the worker launcher: %s",
                    g_strerror(errno));
        if (opts.cgroup >= 0)
            cgroup_workers_end(opts.cgroup);
        g_free(l);
        return false;
    }
    if (!l->pid) {
        close(sv[0]);
        opts.seccomp = vmm_seccomp_enabled();
        launcher_loop(sv[1], &opts);
    }
    close(sv[1]);
    if (opts.cgroup >= 0)
        close(opts.cgroup); /* the launcher's now */
    l->fd = sv[0];
    g_mutex_init(&l->lock);
    *wl = (struct worker_launcher){ spawn_worker, reap_worker, l };
    return true;
}

void worker_launcher_stop(struct worker_launcher *wl)
{
    struct launcher *l = wl->data;

    if (!l)
        return;
    /* It ends, and its workers with it; vmm's filters forbid waiting for
     * it: vmm ends next, and init reaps it. */
    close(l->fd);
    g_mutex_clear(&l->lock);
    g_free(l);
    wl->data = NULL;
}

/* --- the worker ------------------------------------------------------------------ */

struct worker_args {
    bool sandbox;
    struct sandbox_config box;
};

/* Address space a built VM may still take: heaps (glibc reserves 64 MiB
 * per arena), thread stacks (8 MiB each), device buffers. */
#define WORKER_AS_BASE (512ull << 20)
#define WORKER_AS_PER_VCPU (64ull << 20)
#define WORKER_FILES_BASE 256
#define WORKER_FILES_PER_VCPU 8

/* The hidden test hook VMM_TEST_WORKER_HOOK=VM:ACTION[,VM:ACTION...]
 * (tests/integration/workers-confinement.sh): does the worker of VM
 * named @vm do @action? */
static bool hooked(const char *vm, const char *action)
{
    const char *hooks = g_getenv("VMM_TEST_WORKER_HOOK");
    g_autofree char *want = NULL;
    g_auto(GStrv) list = NULL;

    if (!hooks)
        return false;
    want = g_strdup_printf("%s:%s", vm, action);
    list = g_strsplit(hooks, ",", -1);
    return g_strv_contains((const char *const *)list, want);
}

/* How many threads (small stacks: the address space limit is not what is
 * tested) the worker can add, up to PROBE_THREADS, all alive at once. */
#define PROBE_THREADS 200
static GMutex probe_lock;
static GCond probe_cond;
static bool probe_done;

static void *probe_thread(void *arg)
{
    g_mutex_lock(&probe_lock);
    while (!probe_done)
        g_cond_wait(&probe_cond, &probe_lock);
    g_mutex_unlock(&probe_lock);
    return arg;
}

static unsigned probe_threads(void)
{
    pthread_t t[PROBE_THREADS];
    pthread_attr_t attr;
    unsigned n = 0;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    while (n < PROBE_THREADS && pthread_create(&t[n], &attr, probe_thread, NULL) == 0)
        n++;
    pthread_attr_destroy(&attr);
    g_mutex_lock(&probe_lock);
    probe_done = true;
    g_cond_broadcast(&probe_cond);
    g_mutex_unlock(&probe_lock);
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return n;
}

/* The hook's "probe": what a worker taken over by its guest would find,
 * tried once it is confined and before its filter (the filter refuses
 * these anyway: the hook shows what the sandbox alone does). */
static void probe(const char *vm)
{
    const char *what[] = { "/etc/passwd", "/" };
    GString *line = g_string_new(NULL);

    g_string_append_printf(line, "worker probe (VM '%s'): pid %d, uid %u", vm, (int)getpid(),
                           (unsigned)getuid());
    for (size_t i = 0; i < G_N_ELEMENTS(what); i++) {
        int fd = open(what[i], O_RDONLY | O_CLOEXEC);

        g_string_append_printf(line, ", open %s: %s", what[i], fd >= 0 ? "ok" : g_strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    g_string_append_printf(line, ", kill -1: %s", kill(-1, 0) == 0 ? "ok" : g_strerror(errno));
    g_string_append_printf(line, ", threads: %u of %u", probe_threads(), PROBE_THREADS);
    vmm_log("%s", line->str);
    g_string_free(line, TRUE);
}

static bool lockdown(const struct mvm *mv, void *data, GError **error)
{
    struct worker_args *a = data;
    struct sandbox_config box = a->box;
    int e;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);

    if (a->sandbox) {
        box.address_space_headroom = WORKER_AS_BASE + WORKER_AS_PER_VCPU * mv->cfg.vcpus;
        box.open_files = WORKER_FILES_BASE + WORKER_FILES_PER_VCPU * mv->cfg.vcpus;
        if (!sandbox_enter(&box, notes, error))
            return false;
        for (guint i = 0; i < notes->len; i++)
            vmm_log("worker for VM '%s': %s", mv->name, (char *)notes->pdata[i]);
        if (hooked(mv->name, "probe"))
            probe(mv->name);
    } else if (!caps_drop_all(error)) {
        return false;
    }
    if (!vmm_seccomp_enter(VMM_THREAD_WORKER, error))
        return false;
    if ((e = outbuf_start_writers()))
        vmm_log("worker for VM '%s': cannot start its output writer: %s", mv->name,
                g_strerror(e));
    /* The hook's hostile workers: a forbidden call (the filter ends the
     * worker), a message that does not decode (the manager ends it). */
    if (hooked(mv->name, "violate"))
        close(socket(AF_INET, SOCK_STREAM, 0));
    if (hooked(mv->name, "garbage") && write(WORKER_FD, "garbage", 7) != 7)
        vmm_log("worker: the garbage hook could not write");
    return true;
}

bool parse_uid_gid(const char *text, uint32_t *uid, uint32_t *gid)
{
    guint64 u, g;
    g_auto(GStrv) parts = g_strsplit(text, ":", 2);

    if (!parts[0] || !parts[1] ||
        !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT32 - 1, &u, NULL) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT32 - 1, &g, NULL))
        return false;
    *uid = u;
    *gid = g;
    return true;
}

int worker_main(int argc, char **argv)
{
    struct kvm kvm = { .fd = -1 };
    struct worker_args args = { .sandbox = true,
                                .box = { .uid = SANDBOX_KEEP_ID, .gid = SANDBOX_KEEP_ID } };
    GError *error = NULL;
    bool have_kvm;
    int status;

    if (argc < 3 || strcmp(argv[2], G_STRINGIFY(WORKER_FD)))
        goto usage;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--no-seccomp"))
            vmm_seccomp_disable();
        else if (!strcmp(argv[i], "--no-sandbox"))
            args.sandbox = false;
        else if (!strcmp(argv[i], "--user") && i + 1 < argc &&
                 parse_uid_gid(argv[i + 1], &args.box.uid, &args.box.gid))
            i++;
        else
            goto usage;
    }
    fcntl(WORKER_FD, F_SETFD, FD_CLOEXEC);
    /* Confinement begins while this is the process's only thread (see
     * sandbox_prepare()); its console writer starts once it is complete. */
    outbuf_defer_writers();
    if (args.sandbox) {
        g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);

        if (!sandbox_prepare(notes, &error)) {
            vmm_log("worker: %s", error->message);
            g_error_free(error);
            return VMM_EXIT_KVM_ERROR;
        }
        for (guint i = 0; i < notes->len; i++)
            vmm_log("worker: %s", (char *)notes->pdata[i]);
    }
    have_kvm = kvm_open(&kvm, &error);
    if (!have_kvm) {
        vmm_log("worker: %s", error->message); /* its VM's build says so too */
        g_clear_error(&error);
    }
    /* Confined once its VM is built: until then it reads the VM's files. */
    status = worker_serve(WORKER_FD, &manager_kvm_backend, have_kvm ? &kvm : NULL, lockdown,
                          &args);
    kvm_close(&kvm);
    return status;

usage:
    vmm_log("__worker: a private entry point of vmm serve --workers on");
    return VMM_EXIT_USAGE;
}
