/*
 * The host-root init's file (vmm-guest/hostroot.h): encoded by vmm, decoded
 * by the static vmm-init in the guest. libc only (no GLib): vmm-init links
 * this file too. The decoder treats the file as hostile, and the encoder
 * refuses what the decoder would refuse, so vmm reports it before boot.
 */
#include <stdbool.h>
#include <string.h>

#include "vmm-guest/hostroot.h"

static bool path_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;

    return n > 0 && n <= HOSTROOT_MAX_PATH && p[0] == '/';
}

/* Tags reach the kernel's mount(2) as a source string: printable, no spaces. */
static bool tag_ok(const char *t)
{
    size_t n = t ? strlen(t) : 0;

    if (n == 0 || n > HOSTROOT_MAX_TAG)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] <= ' ' || t[i] > '~')
            return false;
    return true;
}

/* NAME=VALUE with NAME a shell-style name. */
static bool env_ok(const char *e)
{
    size_t i = 0;

    if (!e || !(e[0] == '_' || (e[0] >= 'A' && e[0] <= 'Z') || (e[0] >= 'a' && e[0] <= 'z')))
        return false;
    while (e[i] == '_' || (e[i] >= 'A' && e[i] <= 'Z') || (e[i] >= 'a' && e[i] <= 'z') ||
           (e[i] >= '0' && e[i] <= '9'))
        i++;
    return e[i] == '=';
}

const char *hostroot_conf_check(const struct hostroot_conf *c)
{
    if (c->uid > HOSTROOT_ID_MAX || c->gid > HOSTROOT_ID_MAX)
        return "uid or gid out of range";
    if (c->nr_groups > HOSTROOT_MAX_GROUPS)
        return "too many supplementary groups";
    for (unsigned i = 0; i < c->nr_groups; i++)
        if (c->groups[i] > HOSTROOT_ID_MAX)
            return "supplementary group out of range";
    if (!path_ok(c->cwd))
        return "the working directory is not an absolute path (or is too long)";
    if (!tag_ok(c->root_tag))
        return "bad root tag";
    if (c->nr_rw > HOSTROOT_MAX_RW)
        return "too many read-write directories";
    for (unsigned i = 0; i < c->nr_rw; i++)
        if (!tag_ok(c->rw[i].tag) || !path_ok(c->rw[i].path))
            return "bad read-write directory (tag or absolute path)";
    if (c->nr_env > HOSTROOT_MAX_ENV)
        return "too many environment variables";
    for (unsigned i = 0; i < c->nr_env; i++)
        if (!env_ok(c->env[i]))
            return "bad environment variable (not NAME=VALUE)";
    if (c->nr_args == 0)
        return "no command";
    if (c->nr_args > HOSTROOT_MAX_ARGS)
        return "too many arguments";
    for (unsigned i = 0; i < c->nr_args; i++)
        if (!c->argv[i])
            return "a missing argument";
    if (!c->argv[0][0])
        return "the command is an empty string";
    return NULL;
}

/* Appends @s and its NUL at *@at when it fits; *@at counts on regardless. */
static void put(char *buf, size_t size, size_t *at, const char *s)
{
    size_t n = strlen(s) + 1;

    if (*at <= size && n <= size - *at)
        memcpy(buf + *at, s, n);
    *at += n;
}

static void put_num(char *buf, size_t size, size_t *at, unsigned v)
{
    char d[16];
    int i = sizeof(d) - 1;

    d[i] = '\0';
    do {
        d[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    put(buf, size, at, d + i);
}

size_t hostroot_conf_encode(const struct hostroot_conf *c, char *buf, size_t size)
{
    size_t at = 0;

    if (hostroot_conf_check(c))
        return 0;
    put(buf, size, &at, HOSTROOT_CONF_MAGIC);
    put(buf, size, &at, "uid");
    put_num(buf, size, &at, c->uid);
    put(buf, size, &at, "gid");
    put_num(buf, size, &at, c->gid);
    for (unsigned i = 0; i < c->nr_groups; i++) {
        put(buf, size, &at, "group");
        put_num(buf, size, &at, c->groups[i]);
    }
    put(buf, size, &at, "cwd");
    put(buf, size, &at, c->cwd);
    put(buf, size, &at, "root");
    put(buf, size, &at, c->root_tag);
    for (unsigned i = 0; i < c->nr_rw; i++) {
        put(buf, size, &at, "rw");
        put(buf, size, &at, c->rw[i].tag);
        put(buf, size, &at, c->rw[i].path);
    }
    for (unsigned i = 0; i < c->nr_env; i++) {
        put(buf, size, &at, "env");
        put(buf, size, &at, c->env[i]);
    }
    for (unsigned i = 0; i < c->nr_args; i++) {
        put(buf, size, &at, "arg");
        put(buf, size, &at, c->argv[i]);
    }
    return at > HOSTROOT_CONF_MAX ? 0 : at;
}

/* The string at *@at (its NUL inside the @len bytes), moving past it. */
static const char *next(const char *buf, size_t len, size_t *at)
{
    const char *s = buf + *at;
    const char *nul;

    if (*at >= len)
        return NULL;
    nul = memchr(s, '\0', len - *at);
    if (!nul)
        return NULL;
    *at += (size_t)(nul - s) + 1;
    return s;
}

/* A decimal ID (no sign, no leading zeros but "0", at most HOSTROOT_ID_MAX). */
static bool id_parse(const char *s, unsigned *v)
{
    unsigned long long n = 0;

    if (!s || !*s || (s[0] == '0' && s[1]) || strlen(s) > 10)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        n = n * 10 + (unsigned)(*s - '0');
    }
    if (n > HOSTROOT_ID_MAX)
        return false;
    *v = (unsigned)n;
    return true;
}

const char *hostroot_conf_decode(const char *buf, size_t len, struct hostroot_conf *c)
{
    size_t at = 0;
    const char *key, *v, *w;
    bool have_uid = false, have_gid = false;

    memset(c, 0, sizeof(*c));
    if (len > HOSTROOT_CONF_MAX)
        return "the file is too large";
    if (len == 0 || buf[len - 1] != '\0')
        return "the file is truncated (it must end with a NUL)";
    key = next(buf, len, &at);
    if (!key || strcmp(key, HOSTROOT_CONF_MAGIC) != 0)
        return "not a vmm-init file (" HOSTROOT_CONF_MAGIC ")";
    while ((key = next(buf, len, &at))) {
        v = next(buf, len, &at);
        if (!v)
            return "a key without its value";
        if (!strcmp(key, "uid")) {
            if (have_uid || !id_parse(v, &c->uid))
                return "bad or repeated uid";
            have_uid = true;
        } else if (!strcmp(key, "gid")) {
            if (have_gid || !id_parse(v, &c->gid))
                return "bad or repeated gid";
            have_gid = true;
        } else if (!strcmp(key, "group")) {
            if (c->nr_groups >= HOSTROOT_MAX_GROUPS || !id_parse(v, &c->groups[c->nr_groups]))
                return "bad supplementary group, or too many";
            c->nr_groups++;
        } else if (!strcmp(key, "cwd")) {
            if (c->cwd)
                return "repeated cwd";
            c->cwd = v;
        } else if (!strcmp(key, "root")) {
            if (c->root_tag)
                return "repeated root";
            c->root_tag = v;
        } else if (!strcmp(key, "rw")) {
            w = next(buf, len, &at);
            if (!w)
                return "rw without its path";
            if (c->nr_rw >= HOSTROOT_MAX_RW)
                return "too many read-write directories";
            c->rw[c->nr_rw].tag = v;
            c->rw[c->nr_rw].path = w;
            c->nr_rw++;
        } else if (!strcmp(key, "env")) {
            if (c->nr_env >= HOSTROOT_MAX_ENV)
                return "too many environment variables";
            c->env[c->nr_env++] = v;
        } else if (!strcmp(key, "arg")) {
            if (c->nr_args >= HOSTROOT_MAX_ARGS)
                return "too many arguments";
            c->argv[c->nr_args++] = v;
        } else {
            return "unknown key";
        }
    }
    if (!have_uid || !have_gid)
        return "no uid or gid";
    c->argv[c->nr_args] = NULL;
    return hostroot_conf_check(c);
}
