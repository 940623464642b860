/*
 * The one run lifecycle: a manager, its main loop, and what ends it.
 * `vmm run` is the manager with one VM (the process ends with it) and,
 * with --qmp, the control socket beside it; `vmm serve` is the same with
 * any number of VMs, until `quit` or a signal. Signals, the time limit,
 * the guest's console input, errors and exit statuses, privileges and
 * seccomp go through here, and reach VMs only through the manager.
 */
#include <glib-unix.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/caps.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"
#include "vmm/sandbox.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"
#include "vmm/worker.h"

struct host {
    GMainLoop *loop;
    struct worker_launcher launcher; /* --workers on */
    struct manager m;
    struct kvm kvm;
    struct qmp_server *server;   /* NULL: no control socket */
    int status;
    bool single;                 /* vmm run: the process ends with its VM */
    unsigned timeout;            /* vmm run --timeout, seconds */
};

static void quit_loop(void *data)
{
    struct host *h = data;

    g_main_loop_quit(h->loop);
}

/* vmm run's VM, while it runs (or is paused): NULL once it has ended or
 * been destroyed, and under vmm serve. */
static struct mvm *live_vm(struct host *h)
{
    struct mvm *mv = h->single ? manager_find(&h->m, NULL, NULL) : NULL;

    return mv && (mv->state == MVM_RUNNING || mv->state == MVM_PAUSED) ? mv : NULL;
}

static gboolean on_signal(struct host *h, int signo)
{
    struct mvm *mv = live_vm(h);

    h->status = VMM_EXIT_SIGNAL_BASE + signo;
    /* vmm run: the VM ends with the signal's status, then the loop. */
    if (mv) {
        manager_end(&h->m, mv, VM_STOP_SIGNAL, h->status,
                    signo == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM", NULL);
        return G_SOURCE_CONTINUE;
    }
    /* vmm serve: every VM is stopped on the way out. */
    g_main_loop_quit(h->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer data) { return on_signal(data, SIGINT); }
static gboolean on_sigterm(gpointer data) { return on_signal(data, SIGTERM); }

static gboolean on_timeout(gpointer data)
{
    struct host *h = data;
    struct mvm *mv = live_vm(h);
    g_autofree char *msg = NULL;
    uint64_t written;

    if (!mv)
        return G_SOURCE_REMOVE;
    g_mutex_lock(&mv->console->lock);
    written = mv->console->written;
    g_mutex_unlock(&mv->console->lock);
    if (written)
        msg = g_strdup_printf("timeout: the guest was still running after %u s", h->timeout);
    else
        msg = g_strdup_printf("timeout: the guest was still running after %u s and never "
                              "wrote to its console%s", h->timeout,
                              mv->cfg.boot_linux.kernel_path ?
                              " (does the kernel command line name the right console?)" : "");
    manager_end(&h->m, mv, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT, msg, NULL);
    return G_SOURCE_REMOVE;
}

/* vmm run: its VM has stopped, and the process ends with its status. */
static void single_vm_stopped(struct manager *m, struct mvm *mv, void *data)
{
    struct host *h = data;

    if (mv->stop_message)
        vmm_log("%s", mv->stop_message);
    h->status = mv->exit_status;
    g_main_loop_quit(h->loop);
}

static const char *socket_path(const char *arg)
{
    return g_str_has_prefix(arg, "unix:") ? arg + 5 : arg;
}

static int fail(GError *error)
{
    int status = vmm_error_exit_status(error);

    vmm_log("%s", error->message);
    g_error_free(error);
    return status;
}

/* The manager's failures are the user's (125) unless KVM is missing. */
static int fail_manager(struct host *h, GError *error)
{
    if (error->domain == MANAGER_ERROR && !h->m.kvm && h->m.backend == &manager_kvm_backend) {
        vmm_log("%s", error->message);
        g_error_free(error);
        return VMM_EXIT_NO_KVM;
    }
    if (error->domain == MANAGER_ERROR)
        error->domain = VMM_ERROR, error->code = VMM_ERROR_CONFIG;
    return fail(error);
}

static void host_setup(struct host *h, bool single, bool workers)
{
    GError *error = NULL;

    memset(h, 0, sizeof(*h));
    h->kvm.fd = -1;
    h->single = single;
    if (workers) {
        /* Each VM in its own process: this one holds no KVM descriptor
         * and no guest memory (a worker that cannot open /dev/kvm says
         * so when its VM is built). */
        manager_init(&h->m, &manager_worker_backend, NULL);
        h->m.backend_data = &h->launcher; /* started by serve_main, before the filters */
        h->loop = g_main_loop_new(h->m.ctx, FALSE);
        return;
    }
    manager_init(&h->m, &manager_kvm_backend, NULL);
    /* Without KVM, vmm serve's socket still serves (queries, errors):
     * vm-create says why it cannot. */
    if (kvm_open(&h->kvm, &error))
        h->m.kvm = &h->kvm;
    else
        h->m.kvm_error = g_strdup(error->message);
    g_clear_error(&error);
    h->loop = g_main_loop_new(h->m.ctx, FALSE);
}

/* Everything that needs privilege (the socket, /dev/kvm, the VM) is open:
 * no capabilities from here on, then the signal sources (GLib's "gmain"
 * thread, which they start, inherits none), then the filters of @kind,
 * before any vCPU thread starts (they inherit them). 0 or the exit status. */
static int host_lockdown(struct host *h, enum vmm_thread_kind kind)
{
    GError *error = NULL;

    if (!caps_drop_all(&error))
        return fail(error);
    g_unix_signal_add(SIGINT, on_sigint, h);
    g_unix_signal_add(SIGTERM, on_sigterm, h);
    if (!vmm_seccomp_enter(kind, &error))
        return fail(error);
    return 0;
}

static int host_loop(struct host *h)
{
    if (h->server)
        qmp_server_on_quit(h->server, quit_loop, h);
    g_main_loop_run(h->loop);
    return h->status;
}

static void host_teardown(struct host *h)
{
    qmp_server_free(h->server);
    manager_clear(&h->m);
    worker_launcher_stop(&h->launcher);
    kvm_close(&h->kvm);
    if (h->loop)
        g_main_loop_unref(h->loop);
}

#define SERVE_USAGE "usage: vmm serve --qmp unix:PATH [--config FILE] [--max-clients N]\n"\
                    "                 [--workers on|off] [--sandbox on|off] [--worker-user USER]\n"\
                    "                 [--no-seccomp]\n"

/* --max-clients and [control] max-clients: 1 to this. */
#define MAX_CLIENTS_LIMIT 4096

static bool parse_max_clients(const char *arg, unsigned *out)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(arg, 10, 1, MAX_CLIENTS_LIMIT, &v, NULL))
        return false;
    *out = v;
    return true;
}

/* Whom the workers run as when vmm serve runs as root (--worker-user), and
 * the ids when the host has no such user. */
#define WORKER_DEFAULT_USER "nobody"
#define WORKER_FALLBACK_ID 65534

/* An on|off option's value into *@out; false (said) for anything else. */
static bool parse_on_off(const char *option, const char *v, bool *out)
{
    if (strcmp(v, "on") && strcmp(v, "off")) {
        vmm_log("serve: %s: expected on or off, not %s", option, v);
        return false;
    }
    *out = !strcmp(v, "on");
    return true;
}

/* --worker-user: a user name (its primary group), or UID:GID. */
static bool parse_worker_user(const char *v, struct worker_options *o)
{
    struct passwd *pw;

    if (parse_uid_gid(v, &o->uid, &o->gid))
        return true;
    pw = strchr(v, ':') ? NULL : getpwnam(v);
    if (!pw) {
        vmm_log("serve: --worker-user: no user %s (a user name, or UID:GID)", v);
        return false;
    }
    o->uid = pw->pw_uid;
    o->gid = pw->pw_gid;
    return true;
}

/* The workers' default ids when vmm serve runs as root: nobody's. */
static void default_worker_user(struct worker_options *o)
{
    struct passwd *pw = getpwnam(WORKER_DEFAULT_USER);

    o->uid = pw ? pw->pw_uid : WORKER_FALLBACK_ID;
    o->gid = pw ? pw->pw_gid : WORKER_FALLBACK_ID;
}

int serve_main(int argc, char **argv)
{
    const char *qmp = NULL, *config = NULL;
    unsigned max_clients = 0;
    struct qmp_limits limits = qmp_default_limits;
    bool workers = true;      /* --workers on: each VM in its own process */
    struct worker_options wopts = { .sandbox = true, .uid = SANDBOX_KEEP_ID,
                                    .gid = SANDBOX_KEEP_ID };
    const char *worker_user = NULL;
    struct host h;
    GError *error = NULL;
    int status;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--qmp") && i + 1 < argc)
            qmp = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--no-seccomp"))
            vmm_seccomp_disable();
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            if (!parse_on_off("--workers", argv[++i], &workers))
                return VMM_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--sandbox") && i + 1 < argc) {
            if (!parse_on_off("--sandbox", argv[++i], &wopts.sandbox))
                return VMM_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--worker-user") && i + 1 < argc) {
            worker_user = argv[++i];
        } else if (!strcmp(argv[i], "--max-clients") && i + 1 < argc) {
            if (!parse_max_clients(argv[++i], &max_clients)) {
                vmm_log("serve: --max-clients: expected 1 to %u, not %s", MAX_CLIENTS_LIMIT,
                        argv[i]);
                return VMM_EXIT_USAGE;
            }
        } else {
            vmm_log("serve: unexpected argument %s", argv[i]);
            fputs(SERVE_USAGE, stderr);
            return VMM_EXIT_USAGE;
        }
    }
    if (!qmp) {
        fputs(SERVE_USAGE, stderr);
        return VMM_EXIT_USAGE;
    }
    if (worker_user && !parse_worker_user(worker_user, &wopts))
        return VMM_EXIT_USAGE;
    if (!worker_user && geteuid() == 0)
        default_worker_user(&wopts);
    host_setup(&h, false, workers);
    if (workers && !worker_launcher_start(&h.launcher, &wopts, &error)) {
        status = fail(error);
        goto out;
    }
    if (config && !manager_load_config(&h.m, config, &error)) {
        status = fail_manager(&h, error);
        goto out;
    }
    h.server = qmp_server_new(&h.m, socket_path(qmp), &error);
    if (!h.server) {
        status = fail(error);
        goto out;
    }
    /* The command line wins over the manager config. */
    limits.max_clients = max_clients ? max_clients
                         : h.m.max_clients ? h.m.max_clients : QMP_DEFAULT_MAX_CLIENTS;
    qmp_server_set_limits(h.server, &limits);
    if ((status = host_lockdown(&h, VMM_THREAD_SERVE)))
        goto out;
    if (!manager_start_configured(&h.m, &error)) {
        status = fail_manager(&h, error);
        goto out;
    }
    status = host_loop(&h);
out:
    host_teardown(&h);
    return status;
}

int run_vm(struct vmm_config *cfg, const char *qmp, unsigned timeout)
{
    struct host h;
    GError *error = NULL;
    struct mvm *mv;
    int status;

    if (!cfg->seccomp)
        vmm_seccomp_disable();
    host_setup(&h, true, false);
    h.timeout = timeout;
    h.m.guest_id_zero = !qmp;
    if (!h.m.kvm) {
        vmm_log("%s", h.m.kvm_error);
        status = VMM_EXIT_NO_KVM;
        goto out;
    }
    mv = manager_create(&h.m, NULL, cfg, 0, &error);
    if (!mv) {
        status = fail_manager(&h, error);
        goto out;
    }
    h.m.default_vm = g_strdup(mv->name);
    h.m.on_vm_stopped = single_vm_stopped;
    h.m.on_vm_stopped_data = &h;
    if (qmp) {
        h.server = qmp_server_new(&h.m, socket_path(qmp), &error);
        if (!h.server) {
            status = fail(error);
            goto out;
        }
    } else {
        /* Nothing can rebuild it (system_reset is the socket's). */
        manager_drop_boot_images(mv);
    }
    /* With the socket, the main loop may build VMs for as long as it runs;
     * without, it narrows to its own list once the VM runs. */
    if ((status = host_lockdown(&h, qmp ? VMM_THREAD_SERVE : VMM_THREAD_MAIN)))
        goto out;
    console_start_input(mv->console);
    if (!manager_start(&h.m, NULL, &error)) {
        status = fail_manager(&h, error);
        goto out;
    }
    if (!qmp && !vmm_seccomp_narrow(VMM_THREAD_MAIN, &error)) {
        manager_end(&h.m, mv, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, error->message, NULL);
        g_clear_error(&error);
    }
    if (timeout)
        g_timeout_add_seconds(timeout, on_timeout, &h);
    status = host_loop(&h);
out:
    host_teardown(&h);
    return status;
}
