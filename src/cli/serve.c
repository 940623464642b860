/*
 * vmm serve (a manager of many VMs behind a control socket) and vmm run
 * --qmp (one VM, with the socket beside it): the main loop that the
 * socket, the signals and the VMs' stop reports all come through.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/caps.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"
#include "vmm/vm.h"

struct serve {
    GMainLoop *loop;
    struct manager m;
    struct kvm kvm;
    struct qmp_server *server;
    int status;
    bool single;             /* vmm run --qmp: the process ends with its VM */
};

static void quit_loop(void *data)
{
    struct serve *s = data;

    g_main_loop_quit(s->loop);
}

static gboolean on_signal(struct serve *s, int signo)
{
    struct mvm *mv;

    s->status = VMM_EXIT_SIGNAL_BASE + signo;
    /* vmm run: the VM ends with the signal's status, then the loop. */
    if (s->single && (mv = manager_find(&s->m, NULL, NULL)) && mv->vm &&
        mv->state != MVM_SHUTDOWN && mv->state != MVM_PRELAUNCH) {
        vm_stop(mv->vm, VM_STOP_SIGNAL, s->status, "stopped by %s",
                signo == SIGINT ? "SIGINT" : "SIGTERM");
        return G_SOURCE_CONTINUE;
    }
    g_main_loop_quit(s->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer data) { return on_signal(data, SIGINT); }
static gboolean on_sigterm(gpointer data) { return on_signal(data, SIGTERM); }

static void single_vm_stopped(struct manager *m, struct mvm *mv, void *data)
{
    struct serve *s = data;

    if (mv->stop_message)
        vmm_log("%s", mv->stop_message);
    s->status = mv->exit_status;
    g_main_loop_quit(s->loop);
}

static gboolean on_timeout(gpointer data)
{
    struct serve *s = data;
    struct mvm *mv = manager_find(&s->m, NULL, NULL);

    if (mv && mv->vm && mv->state != MVM_SHUTDOWN)
        vm_stop(mv->vm, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT, "timeout: the guest was still running");
    return G_SOURCE_REMOVE;
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
static int fail_manager(struct serve *s, GError *error)
{
    if (error->domain == MANAGER_ERROR && !s->m.kvm) {
        vmm_log("%s", error->message);
        g_error_free(error);
        return VMM_EXIT_NO_KVM;
    }
    if (error->domain == MANAGER_ERROR)
        error->domain = VMM_ERROR, error->code = VMM_ERROR_CONFIG;
    return fail(error);
}

static void serve_setup(struct serve *s)
{
    GError *error = NULL;

    memset(s, 0, sizeof(*s));
    s->kvm.fd = -1;
    manager_init(&s->m, &manager_kvm_backend, NULL);
    /* Without KVM the socket still serves (queries, errors): vm-create
     * says why it cannot. */
    if (kvm_open(&s->kvm, &error))
        s->m.kvm = &s->kvm;
    else
        s->m.kvm_error = g_strdup(error->message);
    g_clear_error(&error);
    s->loop = g_main_loop_new(NULL, FALSE);
    vcpu_kick_init();
    g_unix_signal_add(SIGINT, on_sigint, s);
    g_unix_signal_add(SIGTERM, on_sigterm, s);
}

/* Everything that needs privilege (the socket, /dev/kvm) is open: no
 * capabilities from here on, and the filters, before any vCPU thread
 * starts (they inherit them). 0 or the exit status. */
static int serve_lockdown(void)
{
    GError *error = NULL;

    if (!caps_drop_all(&error) || !vmm_seccomp_enter(VMM_THREAD_SERVE, &error))
        return fail(error);
    return 0;
}

static int serve_loop(struct serve *s)
{
    qmp_server_on_quit(s->server, quit_loop, s);
    g_main_loop_run(s->loop);
    return s->status;
}

static void serve_teardown(struct serve *s)
{
    qmp_server_free(s->server);
    manager_clear(&s->m);
    kvm_close(&s->kvm);
    if (s->loop)
        g_main_loop_unref(s->loop);
}

#define SERVE_USAGE "usage: vmm serve --qmp unix:PATH [--config FILE] [--max-clients N]\n"\
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

int serve_main(int argc, char **argv)
{
    const char *qmp = NULL, *config = NULL;
    unsigned max_clients = 0;
    struct qmp_limits limits = qmp_default_limits;
    struct serve s;
    GError *error = NULL;
    int status;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--qmp") && i + 1 < argc)
            qmp = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--no-seccomp"))
            vmm_seccomp_disable();
        else if (!strcmp(argv[i], "--max-clients") && i + 1 < argc) {
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
    serve_setup(&s);
    if (config && !manager_load_config(&s.m, config, &error)) {
        status = fail_manager(&s, error);
        goto out;
    }
    s.server = qmp_server_new(&s.m, socket_path(qmp), &error);
    if (!s.server) {
        status = fail(error);
        goto out;
    }
    /* The command line wins over the manager config. */
    limits.max_clients = max_clients ? max_clients
                         : s.m.max_clients ? s.m.max_clients : QMP_DEFAULT_MAX_CLIENTS;
    qmp_server_set_limits(s.server, &limits);
    if ((status = serve_lockdown()))
        goto out;
    if (!manager_start_configured(&s.m, &error)) {
        status = fail_manager(&s, error);
        goto out;
    }
    status = serve_loop(&s);
out:
    serve_teardown(&s);
    return status;
}

int run_with_qmp(const char *config_path, const char *qmp, unsigned timeout)
{
    struct vmm_config cfg;
    struct serve s;
    GError *error = NULL;
    struct mvm *mv;
    int status;

    config_init(&cfg);
    if (!config_load(&cfg, config_path, &error)) {
        config_clear(&cfg);
        return fail(error);
    }
    if (!cfg.seccomp)
        vmm_seccomp_disable();
    serve_setup(&s);
    s.single = true;
    if (!s.m.kvm) {
        vmm_log("%s", s.m.kvm_error);
        status = VMM_EXIT_NO_KVM;
        goto out;
    }
    mv = manager_create(&s.m, NULL, &cfg, 0, &error);
    if (!mv) {
        status = fail_manager(&s, error);
        goto out;
    }
    s.m.default_vm = g_strdup(mv->name);
    s.m.on_vm_stopped = single_vm_stopped;
    s.m.on_vm_stopped_data = &s;
    s.server = qmp_server_new(&s.m, socket_path(qmp), &error);
    if (!s.server) {
        status = fail(error);
        goto out;
    }
    if ((status = serve_lockdown()))
        goto out;
    if (!manager_start(&s.m, NULL, &error)) {
        status = fail_manager(&s, error);
        goto out;
    }
    if (timeout)
        g_timeout_add_seconds(timeout, on_timeout, &s);
    status = serve_loop(&s);
out:
    config_clear(&cfg);
    serve_teardown(&s);
    return status;
}
