/* vmm: the command line. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/boot.h"
#include "vmm/caps.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"
#include "vmm/vm.h"

static const char usage[] =
    "usage: vmm run [OPTIONS] CONFIG.toml\n"
    "       vmm run --kernel KERNEL [OPTIONS] [CONFIG.toml]\n"
    "       vmm serve --qmp unix:PATH [--config FILE] [--max-clients N] [--no-seccomp]\n"
    "       vmm ctl --qmp PATH COMMAND [JSON-OBJECT | KEY=VALUE...] | --events\n"
    "       vmm --version\n"
    "Boots the guest CONFIG describes, or a Linux kernel, and exits with its status\n"
    "(see README.md). Options override the config file:\n"
    "  --kernel FILE     boot this Linux kernel (bzImage on x86_64, Image on aarch64)\n"
    "  --initrd FILE     with this initramfs\n"
    "  --append TEXT     and this kernel command line\n"
    "  --cpus N          number of vCPUs\n"
    "  --memory SIZE     guest RAM, such as 512M or 2G\n"
    "  --console FILE    guest console to FILE instead of stdout\n"
    "  --timeout SECONDS stop the guest after that long (status 124)\n"
    "  --qmp unix:PATH   also serve the QMP control socket (with a config file)\n"
    "  --no-seccomp      run without the system call filters (to debug vmm)\n";

/* What the command line says, before the config file is read. */
struct options {
    const char *config;
    const char *kernel, *initrd, *append, *cpus, *memory, *console;
    const char *qmp;          /* --qmp unix:PATH: also serve the control socket */
    unsigned timeout;
    bool no_seccomp;          /* --no-seccomp */
};

struct run_state {
    GMainLoop *loop;
    struct vm *vm;
    unsigned timeout;
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

    if (s->vm->console->written)
        vm_stop(s->vm, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT,
                "timeout: the guest was still running after %u s", s->timeout);
    else
        vm_stop(s->vm, VM_STOP_TIMEOUT, VMM_EXIT_TIMEOUT,
                "timeout: the guest was still running after %u s and never wrote to its "
                "console%s", s->timeout, s->vm->flags & VM_LINUX ?
                " (does the kernel command line name the right console?)" : "");
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
    vm = vm_build(kvm, cfg->name, cfg, console, error);
    /* In guest RAM now: vmm's own copies would only cost memory. */
    g_clear_pointer(&cfg->boot_linux.kernel, g_free);
    g_clear_pointer(&cfg->boot_linux.initrd, g_free);
    return vm;
}

/* The config file, if any, then the options over it, then the images. */
static bool configure(struct vmm_config *cfg, const struct options *o, GError **error)
{
    if (o->config && !config_parse(cfg, o->config, error))
        return false;
    if (!o->config) {
        cfg->name = g_strdup("linux");
        cfg->vcpus_at = g_strdup("vcpus");
    }
    if (o->kernel)
        config_set_kernel(cfg, o->kernel);
    if ((o->initrd || o->append) && !cfg->boot_linux.kernel_path) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s needs a kernel (--kernel)",
                    o->initrd ? "--initrd" : "--append");
        return false;
    }
    if (o->initrd) {
        g_free(cfg->boot_linux.initrd_path);
        cfg->boot_linux.initrd_path = g_strdup(o->initrd);
    }
    if (o->append) {
        g_free(cfg->boot_linux.cmdline);
        cfg->boot_linux.cmdline = g_strdup(o->append);
    }
    if (o->console) {
        g_free(cfg->console_file);
        cfg->console_file = g_strdup(o->console);
    }
    return (!o->cpus || config_set_vcpus(cfg, "--cpus", o->cpus, error)) &&
           (!o->memory || config_set_memory(cfg, "--memory", o->memory, error)) &&
           config_finish(cfg, error);
}

static int run(const struct options *o)
{
    struct vmm_config cfg;
    struct kvm kvm = { .fd = -1 };
    struct console *console = NULL;
    struct run_state s = { 0 };
    GError *error = NULL;
    int status;

    config_init(&cfg);
    s.timeout = o->timeout;
    if (!configure(&cfg, o, &error) ||
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
    if (o->timeout)
        g_timeout_add_seconds(o->timeout, on_timeout, &s);
    /* Set-up is over: the filters, before the threads that inherit them. */
    if (!cfg.seccomp)
        vmm_seccomp_disable();
    if (!vmm_seccomp_enter(VMM_THREAD_MAIN, &error)) {
        status = fail(error);
        g_main_loop_unref(s.loop);
        goto out;
    }
    console_start_input(console);
    if (!vm_start(s.vm, &error))
        vmm_log("%s", error->message);
    else if (!vmm_seccomp_narrow(VMM_THREAD_MAIN, &error))
        vm_stop(s.vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, "%s", error->message);
    else
        g_main_loop_run(s.loop);
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

/* The value of option @name at argv[*i], if argv[*i] is that option. */
static bool option(int argc, char **argv, int *i, const char *name, const char **value)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    if (*i + 1 >= argc) {
        *value = NULL;
        return true;
    }
    *value = argv[++*i];
    return true;
}

static int parse_run_options(int argc, char **argv, struct options *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = "";
        const char **slot = NULL;

        if (a[0] != '-') {
            if (o->config) {
                vmm_log("one config file only (%s and %s)", o->config, a);
                return VMM_EXIT_USAGE;
            }
            o->config = a;
            continue;
        }
        if (option(argc, argv, &i, "--kernel", &v)) slot = &o->kernel;
        else if (option(argc, argv, &i, "--initrd", &v)) slot = &o->initrd;
        else if (option(argc, argv, &i, "--append", &v)) slot = &o->append;
        else if (option(argc, argv, &i, "--cpus", &v)) slot = &o->cpus;
        else if (option(argc, argv, &i, "--memory", &v)) slot = &o->memory;
        else if (option(argc, argv, &i, "--console", &v)) slot = &o->console;
        else if (option(argc, argv, &i, "--qmp", &v)) slot = &o->qmp;
        else if (!strcmp(a, "--no-seccomp")) {
            o->no_seccomp = true;
            continue;
        } else if (option(argc, argv, &i, "--timeout", &v)) {
            char *end;
            unsigned long t = v ? strtoul(v, &end, 10) : 0;

            if (!v || *end || !*v || t == 0 || t > 86400 * 365) {
                vmm_log("--timeout: \"%s\" is not a number of seconds (1 or more)",
                        v ? v : "");
                return VMM_EXIT_USAGE;
            }
            o->timeout = t;
            continue;
        } else {
            vmm_log("unknown option %s", a);
            fputs(usage, stderr);
            return VMM_EXIT_USAGE;
        }
        if (!v) {
            vmm_log("%s needs a value", a);
            return VMM_EXIT_USAGE;
        }
        *slot = v;
    }
    if (!o->config && !o->kernel) {
        fputs(usage, stderr);
        return VMM_EXIT_USAGE;
    }
    return 0;
}

static int run_main(int argc, char **argv);

/* Runs @fn with vmm's messages going through a bounded queue, so that a
 * stalled reader of stderr never stalls a vCPU or the main loop. */
static int with_async_log(int (*fn)(int, char **), int argc, char **argv)
{
    int st;

    vmm_log_async_start();
    st = fn(argc, argv);
    vmm_log_async_stop();
    return st;
}

int main(int argc, char **argv)
{

    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("vmm %s (%s)\n", VMM_VERSION, arch_name);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    /* A reader of stdout or stderr that goes away (a pipe to head, a log
     * collector restarted) must cost its output, never vmm and its VMs:
     * writes then fail with EPIPE, which each writer handles. */
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return with_async_log(serve_main, argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "ctl"))
        return ctl_main(argc, argv);
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        fputs(usage, stderr);
        return VMM_EXIT_USAGE;
    }
    return with_async_log(run_main, argc, argv);
}

static int run_main(int argc, char **argv)
{
    struct options o = { 0 };
    int st;

    st = parse_run_options(argc, argv, &o);
    if (st)
        return st;
    if (o.no_seccomp)
        vmm_seccomp_disable();
    if (o.qmp) {
        if (o.kernel || o.initrd || o.append || o.cpus || o.memory || o.console || !o.config) {
            vmm_log("--qmp runs the VM a config file describes: put --kernel, --initrd, "
                    "--append, --cpus, --memory and --console in its [boot], [vm] and "
                    "[console] sections");
            return VMM_EXIT_USAGE;
        }
        return run_with_qmp(o.config, o.qmp, o.timeout);
    }
    return run(&o);
}
