/* vmm: the command line. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/hostroot.h"
#include "vmm/json_load.h"
#include "vmm/seccomp.h"
#include "vmm/serve.h"

static const char usage[] =
    "usage: vmm run [OPTIONS] CONFIG.toml\n"
    "       vmm run --kernel KERNEL [OPTIONS] [CONFIG.toml]\n"
    "       vmm run --qmp unix:PATH [OPTIONS] [CONFIG.toml]\n"
    "       vmm run --kernel KERNEL --host-root [--rw DIR]... [OPTIONS] -- COMMAND [ARGS...]\n"
    "       vmm serve --qmp unix:PATH [--config FILE] [--max-clients N] [--workers on|off]\n"
    "                 [--sandbox on|off] [--worker-user USER] [--no-seccomp]\n"
    "       vmm ctl --qmp PATH COMMAND [JSON-OBJECT | KEY=VALUE...] | --events\n"
    "       vmm --version\n"
    "Boots the guest CONFIG describes, or a Linux kernel, and exits with its status\n"
    "(see README.md). Options override the config file:\n";
/* ...then the config schema's options (config_options_usage()), then: */
static const char usage_tail[] =
    "  --timeout SECONDS stop the guest after that long (status 124)\n"
    "  --qmp unix:PATH   also serve the QMP control socket\n"
    "  --no-seccomp      run without the system call filters (to debug vmm)\n"
    "  --host-root       run COMMAND (after --) on the host's files, read-only, and\n"
    "                    exit with its status\n"
    "  --rw DIR          with --host-root: the command may write DIR (repeatable)\n";

#define RUN_MAX_OVERRIDES 24

/* What the command line says, before the config file is read. */
struct options {
    const char *config;
    /* The config schema's options, by their index in config_options[]. */
    const char *overrides[RUN_MAX_OVERRIDES];
    /* --disk, repeatable: each adds a disk (one past the limit, so that
     * the config says there are too many). */
    const char *disks[VMM_MAX_DISKS + 1];
    unsigned nr_disks;
    const char *shares[VMM_MAX_SHARES + 1];  /* --share, the same way */
    unsigned nr_shares;
    const char *qmp;          /* --qmp unix:PATH: also serve the control socket */
    unsigned timeout;
    bool no_seccomp;          /* --no-seccomp */
    bool host_root;           /* --host-root */
    const char *rw[HOSTROOT_MAX_RW + 1]; /* --rw DIR, one past the limit */
    unsigned nr_rw;
    char **command;           /* after --: the host-root command */
};

/* The command line's options over the config: the one place they are
 * applied. */
static bool run_options_apply(struct vmm_config *cfg, const struct options *o, GError **error)
{
    /* In the schema's order, which puts --kernel before what needs it. */
    for (size_t i = 0; config_options[i]; i++)
        if (o->overrides[i] && !config_set_option(cfg, config_options[i], o->overrides[i], error))
            return false;
    /* Disks after the config file's. */
    for (unsigned i = 0; i < MIN(o->nr_disks, VMM_MAX_DISKS + 1); i++)
        if (!config_set_option(cfg, "--disk", o->disks[i], error))
            return false;
    for (unsigned i = 0; i < MIN(o->nr_shares, VMM_MAX_SHARES + 1); i++)
        if (!config_set_option(cfg, "--share", o->shares[i], error))
            return false;
    return true;
}

static void print_usage(FILE *f)
{
    g_autofree char *opts = config_options_usage();

    fprintf(f, "%s%s%s", usage, opts, usage_tail);
}

/* The index of @name in config_options[], or -1. */
static int override_index(const char *name)
{
    for (size_t i = 0; config_options[i]; i++)
        if (!strcmp(config_options[i], name))
            return i;
    return -1;
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
    if (!run_options_apply(cfg, o, error))
        return false;
    if (o->host_root) {
        struct host_root_request req = {
            .argv = o->command, .rw = (const char **)o->rw, .nr_rw = o->nr_rw,
        };

        if (!host_root_apply(cfg, &req, error))
            return false;
    }
    return config_finish(cfg, error);
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

        if (!strcmp(a, "--")) {
            o->command = &argv[i + 1];
            break;
        }
        if (a[0] != '-') {
            if (o->config) {
                vmm_log("one config file only (%s and %s)", o->config, a);
                return VMM_EXIT_USAGE;
            }
            o->config = a;
            continue;
        }
        int k = override_index(a);

        g_assert(k < RUN_MAX_OVERRIDES);
        if (!strcmp(a, "--disk") && option(argc, argv, &i, a, &v)) {
            static const char *beyond; /* the disks after the first too many */

            slot = o->nr_disks <= VMM_MAX_DISKS ? &o->disks[o->nr_disks] : &beyond;
            o->nr_disks++;
        } else if (!strcmp(a, "--share") && option(argc, argv, &i, a, &v)) {
            static const char *beyond;

            slot = o->nr_shares <= VMM_MAX_SHARES ? &o->shares[o->nr_shares] : &beyond;
            o->nr_shares++;
        }
        else if (k >= 0 && option(argc, argv, &i, a, &v)) slot = &o->overrides[k];
        else if (option(argc, argv, &i, "--qmp", &v)) slot = &o->qmp;
        else if (!strcmp(a, "--no-seccomp")) {
            o->no_seccomp = true;
            continue;
        } else if (!strcmp(a, "--host-root")) {
            o->host_root = true;
            continue;
        } else if (!strcmp(a, "--rw") && option(argc, argv, &i, a, &v)) {
            static const char *beyond; /* those after the first too many */

            slot = o->nr_rw <= HOSTROOT_MAX_RW ? &o->rw[o->nr_rw] : &beyond;
            o->nr_rw++;
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
            print_usage(stderr);
            return VMM_EXIT_USAGE;
        }
        if (!v) {
            vmm_log("%s needs a value", a);
            return VMM_EXIT_USAGE;
        }
        *slot = v;
    }
    if (!o->host_root && (o->command || o->nr_rw)) {
        vmm_log("%s is for --host-root (vmm run --kernel KERNEL --host-root [--rw DIR]... "
                "-- COMMAND [ARGS...])", o->nr_rw ? "--rw" : "a command after --");
        return VMM_EXIT_USAGE;
    }
    if (o->host_root && !o->config && !o->overrides[override_index("--kernel")]) {
        vmm_log("--host-root: needs a Linux kernel (--kernel FILE)");
        return VMM_EXIT_USAGE;
    }
    if (!o->config && !o->overrides[override_index("--kernel")]) {
        print_usage(stderr);
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

/* Enough for the main loop, the output writers and a few vCPUs to
 * allocate without waiting on each other; the exit path allocates nothing. */
#define VMM_MALLOC_ARENAS 4

/* vmm_json_load(), its failure said in one line. */
static bool load_json(void)
{
    g_autoptr(GError) error = NULL;

    if (vmm_json_load(&error))
        return true;
    vmm_log("%s", error->message);
    return false;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("vmm %s (%s)\n", VMM_VERSION, arch_name);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        print_usage(stdout);
        return 0;
    }
    /* A reader of stdout or stderr that goes away (a pipe to head, a log
     * collector restarted) must cost its output, never vmm and its VMs:
     * writes then fail with EPIPE, which each writer handles. */
    signal(SIGPIPE, SIG_IGN);
    /* glibc's malloc gives each new thread an arena, and the first time it
     * needs one beyond its eighth it reads the CPU count from /sys: an
     * openat(2) that the seccomp lists forbid, in whichever thread mallocs
     * first late in a VM's life (a Linux guest with 4 vCPUs and the virtio
     * workers was enough: tests/integration/linux-smp4.sh). A fixed arena
     * count makes that lookup never happen, and bounds the memory the
     * arenas hold. */
    mallopt(M_ARENA_MAX, VMM_MALLOC_ARENAS);
    /* These speak JSON from the start: json-glib now, before any filter. */
    if (argc >= 2 && (!strcmp(argv[1], "__worker") || !strcmp(argv[1], "serve") ||
                      !strcmp(argv[1], "ctl")) && !load_json())
        return VMM_EXIT_KVM_ERROR;
    if (argc >= 2 && !strcmp(argv[1], "__worker"))
        return worker_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return with_async_log(serve_main, argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "ctl"))
        return ctl_main(argc, argv);
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        print_usage(stderr);
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
    if (o.qmp && !load_json()) /* the control socket speaks JSON */
        return VMM_EXIT_KVM_ERROR;
    return run(&o);
}
