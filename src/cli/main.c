/* vmm: the command line. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"

static const char usage[] =
    "usage: vmm run [OPTIONS] CONFIG.toml\n"
    "       vmm run --kernel KERNEL [OPTIONS] [CONFIG.toml]\n"
    "       vmm run --qmp unix:PATH [OPTIONS] [CONFIG.toml]\n"
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
    "  --qmp unix:PATH   also serve the QMP control socket\n"
    "  --no-seccomp      run without the system call filters (to debug vmm)\n";

/* What the command line says, before the config file is read. */
struct options {
    const char *config;
    const char *kernel, *initrd, *append, *cpus, *memory, *console;
    const char *qmp;          /* --qmp unix:PATH: also serve the control socket */
    unsigned timeout;
    bool no_seccomp;          /* --no-seccomp */
};

/* The command line's options over the config: the one place they are
 * applied. */
static bool run_options_apply(struct vmm_config *cfg, const struct options *o, GError **error)
{
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
           (!o->memory || config_set_memory(cfg, "--memory", o->memory, error));
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
    return run_options_apply(cfg, o, error) && config_finish(cfg, error);
}

static int run(const struct options *o)
{
    struct vmm_config cfg;
    GError *error = NULL;
    int status;

    config_init(&cfg);
    if (!configure(&cfg, o, &error)) {
        status = vmm_error_exit_status(error);
        vmm_log("%s", error->message);
        g_error_free(error);
    } else {
        status = run_vm(&cfg, o->qmp, o->timeout);
    }
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
    return run(&o);
}
