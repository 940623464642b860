/*
 * toml-decoder: the decoder interface of toml-test
 * (https://github.com/toml-lang/toml-test). TOML on stdin; for a valid
 * document the tagged JSON on stdout and exit 0, for an invalid one the
 * error on stderr and exit 1.
 */
#include "vmm/toml.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void json_string(GString *out, const char *s, size_t len)
{
    g_string_append_c(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                g_string_append_printf(out, "\\u%04x", c);
            else
                g_string_append_c(out, (char)c);
        }
    }
    g_string_append_c(out, '"');
}

/* The shortest decimal form that reads back as the same double. */
static void format_float(GString *out, double d)
{
    char buf[64];

    if (isnan(d)) {
        g_string_append(out, "nan");
        return;
    }
    if (isinf(d)) {
        g_string_append(out, d < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (g_ascii_strtod(buf, NULL) == d)
            break;
    }
    g_string_append(out, buf);
}

static void format_fraction(GString *out, int ns)
{
    char buf[16];
    int n = 9;

    if (!ns)
        return;
    snprintf(buf, sizeof buf, "%09d", ns);
    while (buf[n - 1] == '0')
        n--;
    g_string_append_printf(out, ".%.*s", n, buf);
}

static void format_datetime(GString *out, toml_type type, const toml_datetime *dt)
{
    if (type != TOML_TIME_LOCAL)
        g_string_append_printf(out, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
    if (type == TOML_DATE_LOCAL)
        return;
    if (type != TOML_TIME_LOCAL)
        g_string_append_c(out, 'T');
    g_string_append_printf(out, "%02d:%02d:%02d", dt->hour, dt->minute, dt->second);
    format_fraction(out, dt->nanosecond);
    if (type != TOML_DATETIME)
        return;
    if (!dt->offset_minutes) {
        g_string_append_c(out, 'Z');
        return;
    }
    int off = abs(dt->offset_minutes);
    g_string_append_printf(out, "%c%02d:%02d", dt->offset_minutes < 0 ? '-' : '+', off / 60,
                           off % 60);
}

static const char *tag_of(toml_type t)
{
    switch (t) {
    case TOML_STRING: return "string";
    case TOML_INTEGER: return "integer";
    case TOML_FLOAT: return "float";
    case TOML_BOOL: return "bool";
    case TOML_DATETIME: return "datetime";
    case TOML_DATETIME_LOCAL: return "datetime-local";
    case TOML_DATE_LOCAL: return "date-local";
    case TOML_TIME_LOCAL: return "time-local";
    default: return NULL;
    }
}

/* toml-test wants every scalar's value as a JSON string. */
static void scalar(GString *out, const toml_value *v)
{
    toml_type t = toml_type_of(v);
    GString *val;

    if (t == TOML_STRING) {
        json_string(out, toml_string(v), toml_string_len(v));
        return;
    }
    val = g_string_new(NULL);
    if (t == TOML_INTEGER)
        g_string_append_printf(val, "%" PRId64, toml_integer(v));
    else if (t == TOML_FLOAT)
        format_float(val, toml_float(v));
    else if (t == TOML_BOOL)
        g_string_append(val, toml_bool(v) ? "true" : "false");
    else
        format_datetime(val, t, toml_datetime_of(v));
    json_string(out, val->str, val->len);
    g_string_free(val, TRUE);
}

/* Depth is bounded by the parser (TOML_MAX_DEPTH), so recursion is safe. */
static void value(GString *out, const toml_value *v)
{
    toml_type t = toml_type_of(v);

    if (t == TOML_TABLE) {
        g_string_append_c(out, '{');
        for (size_t i = 0; i < toml_table_size(v); i++) {
            if (i)
                g_string_append_c(out, ',');
            json_string(out, toml_table_key(v, i), toml_table_key_len(v, i));
            g_string_append_c(out, ':');
            value(out, toml_table_value(v, i));
        }
        g_string_append_c(out, '}');
        return;
    }
    if (t == TOML_ARRAY) {
        g_string_append_c(out, '[');
        for (size_t i = 0; i < toml_array_len(v); i++) {
            if (i)
                g_string_append_c(out, ',');
            value(out, toml_array_get(v, i));
        }
        g_string_append_c(out, ']');
        return;
    }
    g_string_append_printf(out, "{\"type\":\"%s\",\"value\":", tag_of(t));
    scalar(out, v);
    g_string_append_c(out, '}');
}

int main(void)
{
    GString *in = g_string_new(NULL);
    char buf[65536];
    ssize_t n;
    GError *error = NULL;

    while ((n = read(0, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "toml-decoder: reading stdin: %s\n", g_strerror(errno));
            return 2;
        }
        g_string_append_len(in, buf, n);
    }

    toml_value *root = toml_parse(in->str, in->len, "<stdin>", &error);
    g_string_free(in, TRUE);
    if (!root) {
        fprintf(stderr, "%s\n", error->message);
        g_error_free(error);
        return 1;
    }
    GString *out = g_string_new(NULL);
    value(out, root);
    g_string_append_c(out, '\n');
    toml_free(root);
    fwrite(out->str, 1, out->len, stdout);
    g_string_free(out, TRUE);
    return fflush(stdout) == 0 ? 0 : 2;
}
