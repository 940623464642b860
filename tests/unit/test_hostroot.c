/*
 * Host-root mode's pieces that need no VM: the newc cpio writer
 * (src/boot/cpio.c), checked by its own reader of the format and by GNU
 * cpio; the vmm-init file's encoder and decoder (src/boot/hostroot_conf.c)
 * against hostile files; where vmm finds vmm-init.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/hostroot.h"

#include "unit.h"

/* ---- cpio ---- */

static unsigned long hex8(const uint8_t *p)
{
    char s[9];

    memcpy(s, p, 8);
    s[8] = '\0';
    for (int i = 0; i < 8; i++)
        ck_assert_msg(g_ascii_isxdigit(s[i]), "header field \"%s\" is not hex", s);
    return strtoul(s, NULL, 16);
}

/* Walks the archive as the kernel does: every member 4-byte aligned, name
 * and data padded, TRAILER!!! last and nothing after it. Returns the
 * number of members before the trailer. */
static unsigned walk(const uint8_t *a, size_t size)
{
    size_t at = 0;
    unsigned n = 0;

    ck_assert_uint_eq(size % 4, 0);
    for (;;) {
        unsigned long namesize, filesize;
        const char *name;

        ck_assert_uint_eq(at % 4, 0);
        ck_assert_uint_le(at + 110, size);
        ck_assert_int_eq(memcmp(a + at, "070701", 6), 0);
        filesize = hex8(a + at + 6 + 6 * 8);
        namesize = hex8(a + at + 6 + 11 * 8);
        ck_assert_uint_ge(namesize, 2);
        ck_assert_uint_le(at + 110 + namesize, size);
        name = (const char *)a + at + 110;
        ck_assert_int_eq(name[namesize - 1], '\0');
        ck_assert_uint_eq(strlen(name), namesize - 1);
        at = (at + 110 + namesize + 3) & ~(size_t)3;
        if (!strcmp(name, "TRAILER!!!")) {
            ck_assert_uint_eq(filesize, 0);
            ck_assert_uint_eq(at, size);
            return n;
        }
        ck_assert_uint_le(at + filesize, size);
        at = (at + filesize + 3) & ~(size_t)3;
        n++;
    }
}

static uint8_t *sample(size_t *size)
{
    struct cpio c;
    GError *error = NULL;

    cpio_init(&c);
    ck_assert(cpio_add(&c, "dev", S_IFDIR | 0755, 0, 0, NULL, 0, &error));
    ck_assert(cpio_add(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0, &error));
    ck_assert(cpio_add(&c, "init", S_IFREG | 0755, 0, 0, "hello", 5, &error));
    ck_assert(cpio_add(&c, "empty", S_IFREG | 0644, 0, 0, NULL, 0, &error));
    ck_assert(cpio_add(&c, "abc", S_IFREG | 0400, 0, 0, "1234567", 7, &error));
    return cpio_finish(&c, size);
}

START_TEST(cpio_layout)
{
    size_t size;
    g_autofree uint8_t *a = sample(&size);

    ck_assert_uint_eq(walk(a, size), 5);
}
END_TEST

/* Command output of @argv, failing the test unless it exits 0. */
static char *run(const char *const *argv)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &error),
                  "%s: %s", argv[0], error ? error->message : "");
    ck_assert_msg(g_spawn_check_wait_status(status, NULL), "%s failed: %s", argv[0], err);
    return g_steal_pointer(&out);
}

/* GNU cpio, a reader that is not ours, reads the same archive. */
START_TEST(cpio_gnu_reads_it)
{
    size_t size;
    g_autofree uint8_t *a = sample(&size);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "vmm-cpio-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_autofree char *list = NULL, *init = NULL, *abc = NULL;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, a, size), (ssize_t)size);
    close(fd);
    list = run((const char *[]){ "cpio", "--quiet", "-t", "-F", path, NULL });
    init = run((const char *[]){ "cpio", "--quiet", "-i", "--to-stdout", "-F", path, "init",
                                 NULL });
    abc = run((const char *[]){ "cpio", "--quiet", "-i", "--to-stdout", "-F", path, "abc",
                                NULL });
    unlink(path);
    ck_assert_str_eq(list, "dev\ndev/console\ninit\nempty\nabc\n");
    ck_assert_str_eq(init, "hello");
    ck_assert_str_eq(abc, "1234567");
}
END_TEST

START_TEST(cpio_refuses_bad_members)
{
    static const char *const bad[] = { "", "/init", "../x", "a/../../b", "TRAILER!!!" };
    struct cpio c;

    cpio_init(&c);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        ck_assert_msg(!cpio_add(&c, bad[i], S_IFREG | 0644, 0, 0, "x", 1, &error), "%s", bad[i]);
        ck_assert_ptr_nonnull(error);
    }
    {
        g_autoptr(GError) error = NULL;

        /* data for a folder, and a socket */
        ck_assert(!cpio_add(&c, "d", S_IFDIR | 0755, 0, 0, "x", 1, &error));
        g_clear_error(&error);
        ck_assert(!cpio_add(&c, "s", S_IFSOCK | 0755, 0, 0, NULL, 0, &error));
    }
    ck_assert_uint_eq(c.data->len, 0); /* nothing half-written */
    cpio_clear(&c);
}
END_TEST

/* ---- the vmm-init file ---- */

static void sample_conf(struct hostroot_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->uid = 1000;
    c->gid = 1000;
    c->groups[c->nr_groups++] = 27;
    c->groups[c->nr_groups++] = 0;
    c->cwd = "/home/u/linux";
    c->root_tag = "vmm-root";
    c->rw[c->nr_rw++] = (struct hostroot_rw){ "vmm-rw0", "/home/u/out" };
    c->env[c->nr_env++] = "PATH=/usr/bin:/bin";
    c->env[c->nr_env++] = "LANG=";
    c->argv[c->nr_args++] = "sh";
    c->argv[c->nr_args++] = "-c";
    c->argv[c->nr_args++] = "echo 'a b' \"$HOME\"\n\t\x01\xff";
    c->argv[c->nr_args++] = "";
}

static char *encode(const struct hostroot_conf *c, size_t *len)
{
    size_t n = hostroot_conf_encode(c, NULL, 0);
    char *buf;

    ck_assert_uint_gt(n, 0);
    buf = g_malloc(n);
    ck_assert_uint_eq(hostroot_conf_encode(c, buf, n), n);
    *len = n;
    return buf;
}

START_TEST(conf_round_trip)
{
    struct hostroot_conf in, *out = g_new0(struct hostroot_conf, 1);
    size_t len;
    g_autofree char *buf = NULL;

    sample_conf(&in);
    buf = encode(&in, &len);
    ck_assert_ptr_null(hostroot_conf_decode(buf, len, out));
    ck_assert_uint_eq(out->uid, 1000);
    ck_assert_uint_eq(out->gid, 1000);
    ck_assert_uint_eq(out->nr_groups, 2);
    ck_assert_uint_eq(out->groups[0], 27);
    ck_assert_uint_eq(out->groups[1], 0);
    ck_assert_str_eq(out->cwd, in.cwd);
    ck_assert_str_eq(out->root_tag, "vmm-root");
    ck_assert_uint_eq(out->nr_rw, 1);
    ck_assert_str_eq(out->rw[0].tag, "vmm-rw0");
    ck_assert_str_eq(out->rw[0].path, "/home/u/out");
    ck_assert_uint_eq(out->nr_env, 2);
    ck_assert_str_eq(out->env[1], "LANG=");
    ck_assert_uint_eq(out->nr_args, 4);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_str_eq(out->argv[i], in.argv[i]);
    ck_assert_ptr_null(out->argv[4]);
    g_free(out);
}
END_TEST

/* The encoder never writes past the buffer it is given. */
START_TEST(conf_encode_short_buffer)
{
    struct hostroot_conf c;
    size_t need, len;
    g_autofree char *full = NULL;

    sample_conf(&c);
    full = encode(&c, &len);
    need = len;
    for (size_t size = 0; size < need; size++) {
        g_autofree char *buf = g_malloc(size + 8);

        memset(buf, 0x5a, size + 8);
        ck_assert_uint_eq(hostroot_conf_encode(&c, buf, size), need);
        for (size_t i = size; i < size + 8; i++)
            ck_assert_int_eq(buf[i], 0x5a);
    }
}
END_TEST

START_TEST(conf_encoder_refuses)
{
    struct hostroot_conf c;

    sample_conf(&c);
    c.cwd = "relative";
    ck_assert_uint_eq(hostroot_conf_encode(&c, NULL, 0), 0);
    sample_conf(&c);
    c.root_tag = "has space";
    ck_assert_uint_eq(hostroot_conf_encode(&c, NULL, 0), 0);
    sample_conf(&c);
    c.env[0] = "NOEQUALS";
    ck_assert_ptr_nonnull(hostroot_conf_check(&c));
    sample_conf(&c);
    c.nr_args = 0;
    ck_assert_ptr_nonnull(hostroot_conf_check(&c));
    sample_conf(&c);
    c.argv[0] = "";
    ck_assert_ptr_nonnull(hostroot_conf_check(&c));
    sample_conf(&c);
    c.uid = 0xffffffffu; /* (uid_t)-1: "leave unchanged" to setuid() */
    ck_assert_ptr_nonnull(hostroot_conf_check(&c));
}
END_TEST

/* A file written by hand: the strings of @parts, each with its NUL. */
static const char *decode_parts(const char *const *parts, size_t n)
{
    GString *s = g_string_new(NULL);
    struct hostroot_conf *c = g_new0(struct hostroot_conf, 1);
    const char *why;

    for (size_t i = 0; i < n; i++)
        g_string_append_len(s, parts[i], strlen(parts[i]) + 1);
    why = hostroot_conf_decode(s->str, s->len, c);
    g_string_free(s, TRUE);
    g_free(c);
    return why;
}

#define DECODE(...) decode_parts((const char *const[]){ __VA_ARGS__ }, \
                                 sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))
#define GOOD_HEAD HOSTROOT_CONF_MAGIC, "uid", "0", "gid", "0", "cwd", "/", "root", "r"

START_TEST(conf_decoder_hostile)
{
    struct hostroot_conf *c = g_new0(struct hostroot_conf, 1);

    ck_assert_ptr_null(DECODE(GOOD_HEAD, "arg", "true"));
    ck_assert_ptr_nonnull(hostroot_conf_decode("", 0, c));
    ck_assert_ptr_nonnull(hostroot_conf_decode("vmm-init/1", 10, c)); /* no NUL */
    ck_assert_ptr_nonnull(DECODE("vmm-init/2", "uid", "0", "gid", "0", "cwd", "/", "root", "r",
                                 "arg", "true"));
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD));                             /* no command */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", ""));                  /* empty command */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg"));                      /* key, no value */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "bogus", "1"));   /* unknown key */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "rw", "t"));      /* rw, no path */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "rw", "t", "rel"));
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "uid", "1"));     /* repeated */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "cwd", "/"));
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "root", "r"));
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "env", "1A=b"));
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "env", "A"));
    ck_assert_ptr_null(DECODE(GOOD_HEAD, "arg", "x", "env", "_A1=b=c"));
    static const char *const bad_ids[] = { "", "-1", "+1", "01", "1x", "4294967295",
                                           "99999999999", "18446744073709551617", " 1" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad_ids); i++) {
        ck_assert_msg(DECODE(HOSTROOT_CONF_MAGIC, "uid", bad_ids[i], "gid", "0", "cwd", "/",
                             "root", "r", "arg", "x"), "uid \"%s\" accepted", bad_ids[i]);
        ck_assert_msg(DECODE(GOOD_HEAD, "arg", "x", "group", bad_ids[i]), "group \"%s\"",
                      bad_ids[i]);
    }
    ck_assert_ptr_null(DECODE(HOSTROOT_CONF_MAGIC, "uid", "4294967294", "gid", "0", "cwd", "/",
                              "root", "r", "arg", "x"));
    ck_assert_ptr_nonnull(DECODE(HOSTROOT_CONF_MAGIC, "gid", "0", "cwd", "/", "root", "r",
                                 "arg", "x"));                            /* no uid */
    ck_assert_ptr_nonnull(DECODE(HOSTROOT_CONF_MAGIC, "uid", "0", "gid", "0", "root", "r",
                                 "arg", "x"));                            /* no cwd */
    ck_assert_ptr_nonnull(DECODE(GOOD_HEAD, "arg", "x", "root", "a b"));
    g_free(c);
}
END_TEST

/* Limits: one past each is refused, with no write past the arrays. */
START_TEST(conf_decoder_limits)
{
    GString *s = g_string_new(NULL);
    struct hostroot_conf *c = g_new0(struct hostroot_conf, 1);
    static const struct { const char *key, *value; unsigned max; } lim[] = {
        { "arg", "x", HOSTROOT_MAX_ARGS }, { "env", "A=1", HOSTROOT_MAX_ENV },
        { "group", "5", HOSTROOT_MAX_GROUPS }, { "rw", "t\0/p", HOSTROOT_MAX_RW },
    };

    for (size_t k = 0; k < G_N_ELEMENTS(lim); k++) {
        for (unsigned extra = 0; extra <= 1; extra++) {
            size_t vlen = strlen(lim[k].value) + 1;

            if (!strcmp(lim[k].key, "rw"))
                vlen += strlen(lim[k].value + vlen) + 1;
            g_string_truncate(s, 0);
            g_string_append_len(s, HOSTROOT_CONF_MAGIC "\0uid\0" "0\0gid\0" "0\0cwd\0/\0root\0r",
                                sizeof(HOSTROOT_CONF_MAGIC "\0uid\0" "0\0gid\0" "0\0cwd\0/\0root\0r"));
            if (strcmp(lim[k].key, "arg"))
                g_string_append_len(s, "arg\0x", 6);
            for (unsigned i = 0; i < lim[k].max + extra; i++) {
                g_string_append_len(s, lim[k].key, strlen(lim[k].key) + 1);
                g_string_append_len(s, lim[k].value, vlen);
            }
            ck_assert_msg((hostroot_conf_decode(s->str, s->len, c) == NULL) == !extra,
                          "%u %s records", lim[k].max + extra, lim[k].key);
        }
    }
    g_string_set_size(s, HOSTROOT_CONF_MAX + 1);
    memset(s->str, 0, s->len);
    ck_assert_ptr_nonnull(hostroot_conf_decode(s->str, s->len, c));
    g_string_free(s, TRUE);
    g_free(c);
}
END_TEST

/* Every prefix and every one-byte change of a good file: refused or
 * checked, never a read past the file (ASan builds would say). */
START_TEST(conf_decoder_mutations)
{
    struct hostroot_conf in, *out = g_new0(struct hostroot_conf, 1);
    size_t len;
    g_autofree char *good = NULL;

    sample_conf(&in);
    good = encode(&in, &len);
    for (size_t n = 0; n < len; n++) {
        g_autofree char *p = g_memdup2(good, n);
        const char *why = hostroot_conf_decode(p, n, out);

        /* a prefix is whole records at best: it lacks the last arg */
        if (!why)
            ck_assert_uint_lt(out->nr_args, 4);
    }
    for (size_t i = 0; i < len; i++) {
        static const char subst[] = { 0, 1, '/', '=', 'a', ' ', (char)0xff };

        for (size_t k = 0; k < sizeof(subst); k++) {
            g_autofree char *p = g_memdup2(good, len);

            p[i] = subst[k];
            if (!hostroot_conf_decode(p, len, out))
                ck_assert_ptr_null(hostroot_conf_check(out));
        }
    }
    g_free(out);
}
END_TEST

/* ---- finding vmm-init ---- */

START_TEST(init_path_order)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-init-XXXXXX", NULL);
    g_autofree char *tools = g_build_filename(dir, "tools", NULL);
    g_autofree char *init = g_build_filename(tools, "vmm-init", NULL);
    g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

    ck_assert_ptr_nonnull(dir);
    a = host_root_init_path(NULL, dir, "/usr/libexec/vmm");
    ck_assert_str_eq(a, "/usr/libexec/vmm/vmm-init");
    ck_assert_int_eq(mkdir(tools, 0755), 0);
    ck_assert(g_file_set_contents(init, "x", 1, NULL));
    b = host_root_init_path("", dir, "/usr/libexec/vmm");
    ck_assert_str_eq(b, init);
    c = host_root_init_path("/elsewhere/init", dir, "/usr/libexec/vmm");
    ck_assert_str_eq(c, "/elsewhere/init");
    unlink(init);
    rmdir(tools);
    rmdir(dir);
}
END_TEST

/* ---- the whole mode over a config ---- */

/* The member @name of archive @a, or NULL; its size in *@size. */
static const uint8_t *member(const uint8_t *a, size_t size, const char *name, size_t *len)
{
    size_t at = 0;

    walk(a, size);
    for (;;) {
        unsigned long namesize = hex8(a + at + 6 + 11 * 8);
        unsigned long filesize = hex8(a + at + 6 + 6 * 8);
        const char *n = (const char *)a + at + 110;

        if (!strcmp(n, "TRAILER!!!"))
            return NULL;
        at = (at + 110 + namesize + 3) & ~(size_t)3;
        if (!strcmp(n, name)) {
            *len = filesize;
            return a + at;
        }
        at = (at + filesize + 3) & ~(size_t)3;
    }
}

START_TEST(apply_builds_the_boot)
{
    struct vmm_config cfg;
    g_autofree char *dir = g_dir_make_tmp("vmm-hostroot-XXXXXX", NULL);
    g_autofree char *init = g_build_filename(dir, "vmm-init", NULL);
    g_autofree char *rw = g_build_filename(dir, "out", NULL);
    g_autofree char *cwd = g_get_current_dir();
    char *argv[] = { "sh", "-c", "exit 42", NULL };
    const char *rws[] = { rw };
    struct host_root_request req = { .argv = argv, .rw = rws, .nr_rw = 1 };
    struct hostroot_conf *c = g_new0(struct hostroot_conf, 1);
    g_autoptr(GError) error = NULL;
    const uint8_t *p;
    size_t len;

    ck_assert(g_file_set_contents(init, "\177ELF-not-really", -1, NULL));
    ck_assert_int_eq(mkdir(rw, 0755), 0);
    g_setenv("VMM_INIT", init, TRUE);
    g_setenv("TERM", "xterm", TRUE);
    g_setenv("SECRET_TOKEN", "no", TRUE);
    config_init(&cfg);
    config_set_kernel(&cfg, "/boot/vmlinuz");
    cfg.boot_linux.cmdline = g_strdup("loglevel=7");
    ck_assert_msg(host_root_apply(&cfg, &req, &error), "%s", error ? error->message : "");
    ck_assert(cfg.status_whole);
    ck_assert_uint_eq(cfg.nr_shares, 2);
    ck_assert_str_eq(cfg.shares[0].path, "/");
    ck_assert_str_eq(cfg.shares[0].tag, HOST_ROOT_TAG);
    ck_assert(cfg.shares[0].readonly);
    ck_assert_str_eq(cfg.shares[1].path, rw);
    ck_assert(!cfg.shares[1].readonly);
    /* vmm's words, then the user's: the last word wins in the kernel */
    ck_assert_ptr_nonnull(strstr(cfg.boot_linux.cmdline, arch_linux_default_cmdline()));
    ck_assert(g_str_has_suffix(cfg.boot_linux.cmdline, " " HOST_ROOT_CMDLINE " loglevel=7"));
    ck_assert_ptr_null(cfg.boot_linux.initrd_path);
    p = member(cfg.boot_linux.initrd, cfg.boot_linux.initrd_size, "init", &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(memcmp(p, "\177ELF-not-really", len), 0);
    ck_assert_ptr_nonnull(member(cfg.boot_linux.initrd, cfg.boot_linux.initrd_size,
                                 "dev/console", &len));
    p = member(cfg.boot_linux.initrd, cfg.boot_linux.initrd_size, "vmm-init.conf", &len);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(hostroot_conf_decode((const char *)p, len, c));
    ck_assert_uint_eq(c->uid, getuid());
    ck_assert_uint_eq(c->gid, getgid());
    ck_assert_str_eq(c->cwd, cwd);
    ck_assert_str_eq(c->root_tag, HOST_ROOT_TAG);
    ck_assert_uint_eq(c->nr_rw, 1);
    ck_assert_str_eq(c->rw[0].path, rw);
    ck_assert_str_eq(c->rw[0].tag, cfg.shares[1].tag);
    ck_assert_uint_eq(c->nr_args, 3);
    ck_assert_str_eq(c->argv[2], "exit 42");
    for (unsigned i = 0; i < c->nr_env; i++)
        ck_assert_msg(!g_str_has_prefix(c->env[i], "SECRET_TOKEN="), "the host's environment leaked");
    ck_assert_uint_ge(c->nr_env, 2); /* PATH always, TERM */
    config_clear(&cfg);
    g_free(c);
    unlink(init);
    rmdir(rw);
    rmdir(dir);
}
END_TEST

START_TEST(apply_refuses)
{
    struct vmm_config cfg;
    char *argv[] = { "true", NULL };
    char *none[] = { NULL };
    const char *rws[] = { "/nonexistent-vmm-dir" };
    struct host_root_request ok = { .argv = argv };

    config_init(&cfg);
    {
        g_autoptr(GError) error = NULL;

        ck_assert(!host_root_apply(&cfg, &ok, &error)); /* no kernel */
        ck_assert_ptr_nonnull(strstr(error->message, "needs a Linux kernel"));
    }
    config_set_kernel(&cfg, "/boot/vmlinuz");
    {
        g_autoptr(GError) error = NULL;
        struct host_root_request r = { .argv = none };

        ck_assert(!host_root_apply(&cfg, &r, &error));
        ck_assert_ptr_nonnull(strstr(error->message, "no command"));
    }
    {
        g_autoptr(GError) error = NULL;
        struct host_root_request r = { .argv = argv, .rw = rws, .nr_rw = 1 };

        ck_assert(!host_root_apply(&cfg, &r, &error));
        ck_assert_ptr_nonnull(strstr(error->message, "/nonexistent-vmm-dir"));
        ck_assert_uint_eq(cfg.nr_shares, 0);
    }
    {
        /* a working directory the guest's /tmp would hide, unless --rw brings it */
        g_autofree char *old = g_get_current_dir();
        g_autofree char *tmp = g_dir_make_tmp("vmm-cwd-XXXXXX", NULL);
        g_autofree char *real = realpath(tmp, NULL);
        g_autoptr(GError) error = NULL;
        const char *with[] = { real };
        struct host_root_request r = { .argv = argv, .rw = with, .nr_rw = 1 };

        ck_assert_int_eq(chdir(real), 0);
        if (g_str_has_prefix(real, "/tmp/")) {
            ck_assert(!host_root_apply(&cfg, &ok, &error));
            ck_assert_ptr_nonnull(strstr(error->message, "--rw"));
            g_clear_error(&error);
            g_setenv("VMM_INIT", "/bin/sh", TRUE); /* any file will do */
            ck_assert_msg(host_root_apply(&cfg, &r, &error), "%s", error->message);
        }
        ck_assert_int_eq(chdir(old), 0);
        rmdir(real);
        config_clear(&cfg);
        config_init(&cfg);
        config_set_kernel(&cfg, "/boot/vmlinuz");
    }
    cfg.boot_linux.initrd_path = g_strdup("/x");
    {
        g_autoptr(GError) error = NULL;

        ck_assert(!host_root_apply(&cfg, &ok, &error));
        ck_assert_ptr_nonnull(strstr(error->message, "--initrd"));
    }
    config_clear(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostroot");
    TCase *tc = tcase_create("hostroot");

    tcase_add_test(tc, cpio_layout);
    tcase_add_test(tc, cpio_gnu_reads_it);
    tcase_add_test(tc, cpio_refuses_bad_members);
    tcase_add_test(tc, conf_round_trip);
    tcase_add_test(tc, conf_encode_short_buffer);
    tcase_add_test(tc, conf_encoder_refuses);
    tcase_add_test(tc, conf_decoder_hostile);
    tcase_add_test(tc, conf_decoder_limits);
    tcase_add_test(tc, conf_decoder_mutations);
    tcase_add_test(tc, init_path_order);
    tcase_add_test(tc, apply_builds_the_boot);
    tcase_add_test(tc, apply_refuses);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
