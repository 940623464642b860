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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/caps.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
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

static pid_t launch(bool seccomp, int *fd)
{
    char *argv[] = { "vmm", "__worker", "3", seccomp ? NULL : "--no-seccomp", NULL };
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid = fork();
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

static G_NORETURN void launcher_loop(int sock, bool seccomp)
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
        if (req.op == LAUNCH_SPAWN)
            ans.pid = launch(seccomp, &fd);
        else
            ans.status = req.pid > 0 ? reap(req.pid, req.op == LAUNCH_KILL_REAP) : -1;
        send_answer(sock, &ans, fd);
        if (fd >= 0)
            close(fd);
    }
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
    struct launcher_req req = { .op = LAUNCH_SPAWN };
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

bool worker_launcher_start(struct worker_launcher *wl, GError **error)
{
    struct launcher *l = g_new0(struct launcher, 1);
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        (l->pid = fork()) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "cannot start the worker launcher: %s",
                    g_strerror(errno));
        g_free(l);
        return false;
    }
    if (!l->pid) {
        close(sv[0]);
        launcher_loop(sv[1], vmm_seccomp_enabled());
    }
    close(sv[1]);
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

int worker_main(int argc, char **argv)
{
    struct kvm kvm = { .fd = -1 };
    GError *error = NULL;
    bool have_kvm;
    int status;

    if (argc < 3 || argc > 4 || strcmp(argv[2], G_STRINGIFY(WORKER_FD)) ||
        (argc == 4 && strcmp(argv[3], "--no-seccomp"))) {
        vmm_log("__worker: a private entry point of vmm serve --workers on");
        return VMM_EXIT_USAGE;
    }
    if (argc == 4)
        vmm_seccomp_disable();
    fcntl(WORKER_FD, F_SETFD, FD_CLOEXEC);
    have_kvm = kvm_open(&kvm, &error);
    if (!have_kvm) {
        vmm_log("worker: %s", error->message); /* its VM's build says so too */
        g_clear_error(&error);
    }
    if (!caps_drop_all(&error) || !vmm_seccomp_enter(VMM_THREAD_SERVE, &error)) {
        vmm_log("worker: %s", error->message);
        g_error_free(error);
        return VMM_EXIT_KVM_ERROR;
    }
    status = worker_serve(WORKER_FD, &manager_kvm_backend, have_kvm ? &kvm : NULL);
    kvm_close(&kvm);
    return status;
}
