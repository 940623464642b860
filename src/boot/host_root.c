/*
 * Host-root mode (vmm/hostroot.h): a kernel boot made to run one command on
 * the host's own files. vmm shares "/" read-only and the --rw folders
 * read-write over virtio-fs, and generates the initramfs in memory: /init
 * is vmm-init, /vmm-init.conf says what to run, as whom and where.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/hostroot.h"
#include "vmm-guest/hostroot.h"

/* vmm-init is a small static binary; anything far larger is not it. */
#define HOST_ROOT_INIT_MAX (64u << 20)

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool fail(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "--host-root: %s", msg);
    return false;
}

char *host_root_init_path(const char *env_path, const char *exe_dir, const char *installed_dir)
{
    g_autofree char *beside = g_build_filename(exe_dir, "tools", "vmm-init", NULL);

    /* As for the firmware: the variable wins, then a build tree's own. */
    if (env_path && *env_path)
        return g_strdup(env_path);
    if (g_file_test(beside, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&beside);
    return g_build_filename(installed_dir, "vmm-init", NULL);
}

static char *init_path(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *exedir = exe ? g_path_get_dirname(exe) : g_strdup(".");

    return host_root_init_path(g_getenv("VMM_INIT"), exedir, VMM_GUEST_TOOLS_INSTALL_DIR);
}

/* Only what a command needs to behave as it does on the host. */
static void add_env(struct hostroot_conf *c, GPtrArray *keep)
{
    static const char *const names[] = { "PATH", "HOME", "TERM", "USER", "LANG" };

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        const char *v = g_getenv(names[i]);

        if (!v && !strcmp(names[i], "PATH"))
            v = DEFAULT_PATH;
        if (!v)
            continue;
        g_ptr_array_add(keep, g_strdup_printf("%s=%s", names[i], v));
        c->env[c->nr_env++] = g_ptr_array_index(keep, keep->len - 1);
    }
}

/* Whether @path is @dir or under it. */
static bool path_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    if (n > 1 && dir[n - 1] == '/')
        n--;
    return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* The guest has its own empty tmpfs there: a working directory under one
 * would not exist, unless a --rw folder brings it. */
static const char *cwd_hidden_by(const char *cwd, const struct hostroot_conf *c)
{
    static const char *const scratch[] = { "/tmp", "/var/tmp", "/run" };

    for (unsigned i = 0; i < c->nr_rw; i++)
        if (path_under(cwd, c->rw[i].path))
            return NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(scratch); i++)
        if (path_under(cwd, scratch[i]))
            return scratch[i];
    return NULL;
}

/* The shares and the file for vmm-init; its strings are kept in @keep. */
static bool make_conf(struct vmm_config *cfg, const struct host_root_request *req,
                      struct hostroot_conf *c, GPtrArray *keep, GError **error)
{
    gid_t groups[HOSTROOT_MAX_GROUPS];
    int n;
    char *cwd = g_get_current_dir();
    const char *why;

    g_ptr_array_add(keep, cwd);
    c->uid = getuid();
    c->gid = getgid();
    n = getgroups(HOSTROOT_MAX_GROUPS, groups);
    if (n < 0)
        return fail(error, "more than %d supplementary groups", HOSTROOT_MAX_GROUPS);
    for (int i = 0; i < n; i++)
        c->groups[c->nr_groups++] = groups[i];
    c->cwd = cwd;
    c->root_tag = HOST_ROOT_TAG;
    if (req->nr_rw > HOSTROOT_MAX_RW)
        return fail(error, "at most %d --rw folders", HOSTROOT_MAX_RW);
    for (unsigned i = 0; i < req->nr_rw; i++) {
        /* The guest mounts it where the host has it: its real path. */
        char *real = realpath(req->rw[i], NULL);
        char *tag;

        if (!real)
            return fail(error, "--rw %s: %s", req->rw[i], g_strerror(errno));
        g_ptr_array_add(keep, real);
        if (!g_file_test(real, G_FILE_TEST_IS_DIR))
            return fail(error, "--rw %s: not a folder", req->rw[i]);
        if (!strcmp(real, "/"))
            return fail(error, "--rw /: the host's root is shared read-only; "
                        "name the folders the command may write");
        tag = g_strdup_printf("vmm-rw%u", i);
        g_ptr_array_add(keep, tag);
        c->rw[c->nr_rw++] = (struct hostroot_rw){ tag, real };
    }
    if (cwd_hidden_by(cwd, c))
        return fail(error, "the working directory %s is under %s, which the guest has as its "
                    "own empty tmpfs: run from elsewhere, or share it with --rw %s", cwd,
                    cwd_hidden_by(cwd, c), cwd);
    /* The folders are checked: now the shares. */
    if (!config_add_share(cfg, "/", HOST_ROOT_TAG, true, error))
        return false;
    for (unsigned i = 0; i < c->nr_rw; i++)
        if (!config_add_share(cfg, c->rw[i].path, c->rw[i].tag, false, error))
            return false;
    add_env(c, keep);
    for (char **a = req->argv; a && *a; a++) {
        if (c->nr_args >= HOSTROOT_MAX_ARGS)
            return fail(error, "more than %d command arguments", HOSTROOT_MAX_ARGS);
        c->argv[c->nr_args++] = *a;
    }
    why = hostroot_conf_check(c);
    if (why)
        return fail(error, "%s", why);
    return true;
}

/* The initramfs: the folders vmm-init mounts on, a console to start on,
 * /init and its file. */
static bool make_initramfs(const char *init, const char *conf, size_t conf_size,
                           uint8_t **out, size_t *out_size, GError **error)
{
    g_autofree char *init_data = NULL;
    gsize init_size = 0;
    g_autoptr(GError) err = NULL;
    struct stat st;
    struct cpio c;
    bool ok;

    const char *why = NULL;

    if (stat(init, &st) < 0)
        why = g_strerror(errno);
    else if (!S_ISREG(st.st_mode) || st.st_size > HOST_ROOT_INIT_MAX)
        why = "not a regular file of at most 64 MiB";
    else if (!g_file_get_contents(init, &init_data, &init_size, &err))
        why = err->message;
    if (why)
        return fail(error, "the guest init %s: %s (built as tools/vmm-init, installed in "
                    "%s; $VMM_INIT names another)", init, why, VMM_GUEST_TOOLS_INSTALL_DIR);
    cpio_init(&c);
    ok = cpio_add(&c, "dev", S_IFDIR | 0755, 0, 0, NULL, 0, error) &&
         cpio_add(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0, error) &&
         cpio_add(&c, "proc", S_IFDIR | 0555, 0, 0, NULL, 0, error) &&
         cpio_add(&c, "sys", S_IFDIR | 0555, 0, 0, NULL, 0, error) &&
         cpio_add(&c, "newroot", S_IFDIR | 0755, 0, 0, NULL, 0, error) &&
         cpio_add(&c, "init", S_IFREG | 0755, 0, 0, init_data, init_size, error) &&
         cpio_add(&c, HOSTROOT_CONF_PATH + 1, S_IFREG | 0400, 0, 0, conf, conf_size, error);
    if (ok)
        *out = cpio_finish(&c, out_size);
    cpio_clear(&c);
    return ok;
}

bool host_root_apply(struct vmm_config *cfg, const struct host_root_request *req,
                     GError **error)
{
    struct linux_image *li = &cfg->boot_linux;
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    g_autofree struct hostroot_conf *c = g_new0(struct hostroot_conf, 1);
    g_autofree char *conf = NULL;
    g_autofree char *init = init_path();
    size_t size;

    if (cfg->firmware || !li->kernel_path)
        return fail(error, "needs a Linux kernel (--kernel FILE or [boot] kernel), "
                    "not firmware");
    if (li->initrd_path)
        return fail(error, "vmm makes the initramfs itself: drop --initrd ([boot] initrd)");
    if (!req->argv || !req->argv[0])
        return fail(error, "no command: vmm run --kernel FILE --host-root -- COMMAND [ARGS...]");
    if (!make_conf(cfg, req, c, keep, error))
        return false;
    size = hostroot_conf_encode(c, NULL, 0);
    if (size == 0)
        return fail(error, "the command, its arguments and environment are more than %u bytes",
                    HOSTROOT_CONF_MAX);
    conf = g_malloc(size);
    hostroot_conf_encode(c, conf, size);
    if (!make_initramfs(init, conf, size, &li->initrd, &li->initrd_size, error))
        return false;
    /* vmm's words first: the user's (--append, [boot] cmdline) may override them. */
    {
        char *cmdline = g_strdup_printf("%s %s%s%s", arch_linux_default_cmdline(),
                                        HOST_ROOT_CMDLINE, li->cmdline ? " " : "",
                                        li->cmdline ? li->cmdline : "");

        g_free(li->cmdline);
        li->cmdline = cmdline;
    }
    cfg->status_whole = true;
    return true;
}
