/*
 * A strict RFC 8259 check that every request passes before json-glib reads
 * it. json-glib 1.6 is lenient where the control socket must not be: it
 * takes single-quoted strings, comments, hex and leading-zero numbers,
 * wraps integers beyond 64 bits (to -1 or the other sign), cuts strings at
 * "\u0000" (so "query-version\u0000x" would run query-version), keeps the
 * last of duplicate members, and turns a lone low surrogate into bytes that
 * are not UTF-8. After this check the two agree on what a text means.
 *
 * It also hands back the raw text of the request's "id", so the reply can
 * echo it exactly (1e17 and 2^63-1 come back as sent, not as json-glib
 * would print them).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "vmm/qmp.h"

struct jcheck {
    const char *start, *p, *end;
    const char *id_start, *id_end;   /* the top-level "id" member's value */
    GError **error;
};

static bool G_GNUC_PRINTF(2, 3) bad(struct jcheck *j, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(j->error, QMP_ERROR, QMP_ERROR_GENERIC, "JSON parse error at byte %zu: %s",
                (size_t)(j->p - j->start), why);
    return false;
}

static void skip_ws(struct jcheck *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(p[i]);

        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A string at j->p (its opening quote); its decoded text into @out when
 * not NULL. */
static bool string(struct jcheck *j, GString *out)
{
    j->p++;
    for (;;) {
        unsigned char c;

        if (j->p >= j->end)
            return bad(j, "unterminated string");
        c = *j->p;
        if (c == '"') {
            j->p++;
            return true;
        }
        if (c < 0x20)
            return bad(j, "control character U+%04X in a string (it must be escaped)", c);
        if (c != '\\') {
            if (out)
                g_string_append_c(out, c);
            j->p++;
            continue;
        }
        if (j->end - j->p < 2)
            return bad(j, "unterminated string");
        c = j->p[1];
        if (c == 'u') {
            int u, lo;

            if (j->end - j->p < 6 || (u = hex4(j->p + 2)) < 0)
                return bad(j, "\\u needs 4 hex digits");
            if (u == 0)
                return bad(j, "a string holding NUL (\\u0000) is refused");
            if (u >= 0xdc00 && u <= 0xdfff)
                return bad(j, "a low surrogate without a high one");
            if (u >= 0xd800 && u <= 0xdbff) {
                if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' ||
                    (lo = hex4(j->p + 8)) < 0xdc00 || lo > 0xdfff)
                    return bad(j, "a high surrogate without a low one");
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                j->p += 6;
            }
            if (out)
                g_string_append_unichar(out, u);
            j->p += 6;
            continue;
        }
        if (!strchr("\"\\/bfnrt", c) || c == '\0')
            return bad(j, "invalid escape in a string");
        if (out)
            g_string_append_c(out, c);
        j->p += 2;
    }
}

static bool digits(struct jcheck *j)
{
    const char *from = j->p;

    while (j->p < j->end && g_ascii_isdigit(*j->p))
        j->p++;
    return j->p > from;
}

/* Integers must fit in 64 bits (json-glib would wrap them); other numbers
 * must be finite doubles. */
static bool number(struct jcheck *j)
{
    const char *from = j->p;
    bool integer = true;
    g_autofree char *copy = NULL;

    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!digits(j))
        return bad(j, "invalid number");
    if (j->p < j->end && *j->p == '.') {
        integer = false;
        j->p++;
        if (!digits(j))
            return bad(j, "invalid number");
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        integer = false;
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!digits(j))
            return bad(j, "invalid number");
    }
    copy = g_strndup(from, j->p - from);
    errno = 0;
    if (integer) {
        g_ascii_strtoll(copy, NULL, 10);
        if (errno == ERANGE)
            return bad(j, "integer out of range (64-bit signed)");
    } else if (isinf(g_ascii_strtod(copy, NULL))) {
        return bad(j, "number out of range");
    }
    return true;
}

static bool value(struct jcheck *j, unsigned depth);

static bool word(struct jcheck *j, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return bad(j, "unexpected character");
    j->p += n;
    return true;
}

static bool object(struct jcheck *j, unsigned depth)
{
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GString) name = g_string_new(NULL);

    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        const char *val;

        if (j->p >= j->end || *j->p != '"')
            return bad(j, "expected a member name (a string in double quotes)");
        g_string_truncate(name, 0);
        if (!string(j, name))
            return false;
        if (g_hash_table_contains(names, name->str))
            return bad(j, "duplicate member '%s'", name->str);
        g_hash_table_add(names, g_strdup(name->str));
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return bad(j, "expected ':'");
        j->p++;
        skip_ws(j);
        val = j->p;
        if (!value(j, depth))
            return false;
        if (depth == 1 && !strcmp(name->str, "id")) {
            j->id_start = val;
            j->id_end = j->p;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return true;
        }
        if (j->p >= j->end || *j->p != ',')
            return bad(j, "expected ',' or '}'");
        j->p++;
        skip_ws(j);
    }
}

static bool array(struct jcheck *j, unsigned depth)
{
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return true;
    }
    for (;;) {
        if (!value(j, depth))
            return false;
        skip_ws(j);
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return true;
        }
        if (j->p >= j->end || *j->p != ',')
            return bad(j, "expected ',' or ']'");
        j->p++;
        skip_ws(j);
    }
}

/* A value at j->p (no leading space); @depth: containers around it. */
static bool value(struct jcheck *j, unsigned depth)
{
    if (j->p >= j->end)
        return bad(j, "expected a value");
    switch (*j->p) {
    case '{':
    case '[':
        if (depth >= QMP_MAX_DEPTH)
            return bad(j, "nested deeper than %u levels", QMP_MAX_DEPTH);
        return *j->p == '{' ? object(j, depth + 1) : array(j, depth + 1);
    case '"': return string(j, NULL);
    case 't': return word(j, "true");
    case 'f': return word(j, "false");
    case 'n': return word(j, "null");
    default:
        if (*j->p == '-' || g_ascii_isdigit(*j->p))
            return number(j);
        return bad(j, "unexpected character");
    }
}

/* @s without the whitespace between tokens (strings kept as they are). */
static char *compact(const char *s, size_t len)
{
    GString *out = g_string_sized_new(len);
    bool in_string = false, escape = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (in_string) {
            if (escape)
                escape = false;
            else if (c == '\\')
                escape = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        }
        g_string_append_c(out, c);
    }
    return g_string_free(out, FALSE);
}

bool qmp_json_check(const char *text, size_t len, char **id, GError **error)
{
    struct jcheck j = { .start = text, .p = text, .end = text + len, .error = error };
    const char *stop;

    if (id)
        *id = NULL;
    if (!g_utf8_validate(text, len, &stop)) {
        j.p = stop;
        return bad(&j, *stop ? "invalid UTF-8" : "a NUL byte");
    }
    skip_ws(&j);
    if (!value(&j, 0))
        return false;
    skip_ws(&j);
    if (j.p != j.end)
        return bad(&j, "text after the value");
    if (id && j.id_start)
        *id = compact(j.id_start, j.id_end - j.id_start);
    return true;
}
