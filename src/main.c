/* vmm: the command line. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/caps.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/serve.h"
#include "vmm/vm.h"

static const char usage[] =
    "usage: vmm run [--timeout SECONDS] [--qmp unix:PATH] CONFIG.toml\n"
    "       vmm serve --qmp unix:PATH [--config FILE]\n"
    "       vmm ctl --qmp PATH COMMAND [JSON-OBJECT | KEY=VALUE...] | --events\n"
    "       vmm --version\n"
    "Boots the guest CONFIG describes and exits with its status (see README.md).\n";

struct run_state {
    GMainLoop *loop;
    struct vm *vm;
};

static gboolean on_signal(gpointer data, int signo)
{
    struct run_state *s = data;

    vm_stop(s->vm, VM_STOP_SIGNAL, VMM_EXIT_SIGNAL_BASE + signo, "stopped by %s",
            signo == SIGINT ? "SIGINT" : "SIGTERM");
    return G_SOURCE_CONTINUE;
}

static gboolean on_sigint(gpointer data) { return on_signal(data, SIGINT); }
static gboolean on_sigterm(gpointer data) { return on_signal(data, SIGTERM); }

static gboolean on_timeout(gpointer data)
{
    struct run_state *s = data;

    vm_stop(s->vm, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT, "timeout: the guest was still running");
    return G_SOURCE_REMOVE;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

/* Called on the last vCPU thread to return: hand over to the main loop. */
static void on_vm_stopped(struct vm *vm, void *data)
{
    struct run_state *s = data;

    g_idle_add(quit_loop, s->loop);
}

static int fail(GError *error)
{
    int status = vmm_error_exit_status(error);

    vmm_log("%s", error->message);
    g_error_free(error);
    return status;
}

/* Builds the VM; what happens after this needs no privilege. */
static struct vm *build_vm(struct kvm *kvm, struct vmm_config *cfg, struct console *console,
                           GError **error)
{
    struct vm *vm;

    if (cfg->vcpus > kvm->max_vcpus) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: vm.vcpus: %u is more than KVM on this host allows (%u)",
                    cfg->vcpus_at, cfg->vcpus, kvm->max_vcpus);
        return NULL;
    }
    vm = vm_create(kvm, cfg->name, cfg->memory, cfg->vcpus, console, error);
    if (vm && (!vm_set_policy(vm, &cfg->policy, error) ||
               !vm_load_firmware(vm, cfg->firmware, cfg->image, cfg->image_size, error))) {
        vm_destroy(vm);
        vm = NULL;
    }
    return vm;
}

static int run(const char *config_path, unsigned timeout)
{
    struct vmm_config cfg;
    struct kvm kvm = { .fd = -1 };
    struct console *console = NULL;
    struct run_state s = { 0 };
    GError *error = NULL;
    int status;

    config_init(&cfg);
    if (!config_load(&cfg, config_path, &error) ||
        !(console = console_open(cfg.console_file, &error)) ||
        !kvm_open(&kvm, &error) ||
        !(s.vm = build_vm(&kvm, &cfg, console, &error)) ||
        !caps_drop_all(&error)) {
        status = fail(error);
        goto out;
    }

    s.loop = g_main_loop_new(NULL, FALSE);
    s.vm->on_stopped = on_vm_stopped;
    s.vm->on_stopped_data = &s;
    vcpu_kick_init();
    g_unix_signal_add(SIGINT, on_sigint, &s);
    g_unix_signal_add(SIGTERM, on_sigterm, &s);
    if (timeout)
        g_timeout_add_seconds(timeout, on_timeout, &s);
    if (vm_start(s.vm, &error))
        g_main_loop_run(s.loop);
    else
        vmm_log("%s", error->message);
    g_clear_error(&error);
    vm_join(s.vm);

    if (s.vm->stop.message)
        vmm_log("%s", s.vm->stop.message);
    status = s.vm->stop.status;
    g_main_loop_unref(s.loop);
out:
    vm_destroy(s.vm);
    kvm_close(&kvm);
    console_close(console);
    config_clear(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    unsigned timeout = 0;
    const char *qmp = NULL;
    int i = 2;

    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("vmm %s (%s)\n", VMM_VERSION, arch_name);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return serve_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "ctl"))
        return ctl_main(argc, argv);
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        fputs(usage, stderr);
        return VMM_EXIT_USAGE;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        char *end;

        if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            unsigned long t = strtoul(argv[++i], &end, 10);

            if (*end || !*argv[i] || t == 0 || t > 86400 * 365) {
                vmm_log("--timeout: \"%s\" is not a number of seconds (1 or more)", argv[i]);
                return VMM_EXIT_USAGE;
            }
            timeout = t;
        } else if (!strcmp(argv[i], "--qmp") && i + 1 < argc) {
            qmp = argv[++i];
        } else {
            vmm_log("unknown option %s", argv[i]);
            fputs(usage, stderr);
            return VMM_EXIT_USAGE;
        }
    }
    if (i != argc - 1) {
        fputs(usage, stderr);
        return VMM_EXIT_USAGE;
    }
    if (qmp)
        return run_with_qmp(argv[i], qmp, timeout);
    return run(argv[i], timeout);
}
