/*
 * Runs the toml-test cases listed in files-toml-1.0.0 through a decoder
 * (tools/toml-decoder) and judges them the way toml-test does:
 *   valid/X.toml    exit 0, nothing on stderr, JSON equal to valid/X.json
 *                   (key order ignored, floats compared as numbers with
 *                   nan equal to nan, date-times compared as instants);
 *   invalid/X.toml  exit 1; we also want a "<stdin>:LINE:COL: " message.
 *
 *   toml-conformance DECODER CHECKOUT [SUBSTRING...]
 *
 * find_suite() says where the suite is looked for. An empty suite fails (it
 * never passes with 0 cases); a missing one skips, or fails under CI. The
 * comparison is first checked against pairs with a known verdict.
 *
 * The JSON reader is our own, small one: JSON-GLib cuts strings at NUL,
 * and two cases are about "\u0000".
 */
#include <glib.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* JSON                                                                */

typedef enum { J_OBJECT, J_ARRAY, J_STRING, J_LITERAL } jkind;

typedef struct jnode {
    jkind kind;
    GString *text;              /* J_STRING (decoded), J_LITERAL (as written) */
    GPtrArray *keys;            /* J_OBJECT: GString * */
    GPtrArray *items;           /* J_OBJECT values, J_ARRAY elements */
} jnode;

static void jnode_free(gpointer p)
{
    jnode *n = p;

    if (!n)
        return;
    if (n->text)
        g_string_free(n->text, TRUE);
    if (n->keys)
        g_ptr_array_unref(n->keys);
    if (n->items)
        g_ptr_array_unref(n->items);
    g_free(n);
}

static void gstring_free(gpointer p)
{
    g_string_free(p, TRUE);
}

typedef struct {
    const char *p, *end;
} jreader;

static void jskip(jreader *J)
{
    while (J->p < J->end && strchr(" \t\r\n", *J->p) && *J->p)
        J->p++;
}

static int jhex4(const char *p)
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

static bool junicode(jreader *J, GString *out)
{
    char utf8[6];
    int cp;

    if (J->end - J->p < 4 || (cp = jhex4(J->p)) < 0)
        return false;
    J->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo;
        if (J->end - J->p < 6 || J->p[0] != '\\' || J->p[1] != 'u' ||
            (lo = jhex4(J->p + 2)) < 0xDC00 || lo > 0xDFFF)
            return false;
        J->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    g_string_append_len(out, utf8, g_unichar_to_utf8(cp, utf8));
    return true;
}

static bool jstring(jreader *J, GString *out)
{
    J->p++;
    while (J->p < J->end && *J->p != '"') {
        char c = *J->p++;
        if (c != '\\') {
            g_string_append_c(out, c);
            continue;
        }
        if (J->p >= J->end)
            return false;
        c = *J->p++;
        switch (c) {
        case 'b': g_string_append_c(out, '\b'); break;
        case 'f': g_string_append_c(out, '\f'); break;
        case 'n': g_string_append_c(out, '\n'); break;
        case 'r': g_string_append_c(out, '\r'); break;
        case 't': g_string_append_c(out, '\t'); break;
        case '"': case '\\': case '/': g_string_append_c(out, c); break;
        case 'u':
            if (!junicode(J, out))
                return false;
            break;
        default:
            return false;
        }
    }
    if (J->p >= J->end)
        return false;
    J->p++;
    return true;
}

static jnode *jvalue(jreader *J, int depth);

static jnode *jcontainer(jreader *J, int depth, bool object)
{
    jnode *n = g_new0(jnode, 1);
    char close = object ? '}' : ']';

    n->kind = object ? J_OBJECT : J_ARRAY;
    n->items = g_ptr_array_new_with_free_func(jnode_free);
    if (object)
        n->keys = g_ptr_array_new_with_free_func(gstring_free);
    J->p++;
    jskip(J);
    if (J->p < J->end && *J->p == close) {
        J->p++;
        return n;
    }
    for (;;) {
        jskip(J);
        if (object) {
            GString *key = g_string_new(NULL);
            g_ptr_array_add(n->keys, key);
            if (J->p >= J->end || *J->p != '"' || !jstring(J, key))
                goto bad;
            jskip(J);
            if (J->p >= J->end || *J->p++ != ':')
                goto bad;
        }
        jnode *v = jvalue(J, depth + 1);
        if (!v)
            goto bad;
        g_ptr_array_add(n->items, v);
        jskip(J);
        if (J->p < J->end && *J->p == ',') {
            J->p++;
            continue;
        }
        if (J->p < J->end && *J->p == close) {
            J->p++;
            return n;
        }
        goto bad;
    }
bad:
    jnode_free(n);
    return NULL;
}

static jnode *jvalue(jreader *J, int depth)
{
    jskip(J);
    if (J->p >= J->end || depth > 1000)
        return NULL;
    if (*J->p == '{' || *J->p == '[')
        return jcontainer(J, depth, *J->p == '{');
    jnode *n = g_new0(jnode, 1);
    n->text = g_string_new(NULL);
    if (*J->p == '"') {
        n->kind = J_STRING;
        if (jstring(J, n->text))
            return n;
        jnode_free(n);
        return NULL;
    }
    /* Numbers, true, false, null: kept as written; toml-test never uses them. */
    n->kind = J_LITERAL;
    while (J->p < J->end && (g_ascii_isalnum(*J->p) || strchr("+-.", *J->p)))
        g_string_append_c(n->text, *J->p++);
    if (n->text->len)
        return n;
    jnode_free(n);
    return NULL;
}

static jnode *json_parse(const char *text, size_t len)
{
    jreader J = { text, text + len };
    jnode *n = jvalue(&J, 0);

    jskip(&J);
    if (n && J.p != J.end) {
        jnode_free(n);
        return NULL;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Comparing like toml-test                                            */

static const char *member(const jnode *n, const char *key)
{
    for (guint i = 0; i < n->keys->len; i++) {
        const GString *k = n->keys->pdata[i];
        const jnode *v = n->items->pdata[i];
        if (strlen(key) == k->len && memcmp(k->str, key, k->len) == 0 && v->kind == J_STRING)
            return v->text->str;
    }
    return NULL;
}

/* {"type": "...", "value": "..."}: a scalar, not a table. */
static bool is_tagged(const jnode *n)
{
    return n->kind == J_OBJECT && n->keys->len == 2 && member(n, "type") && member(n, "value");
}

static bool parse_float(const char *s, double *d)
{
    const char *body = (*s == '+' || *s == '-') ? s + 1 : s;
    char *end;

    if (strcmp(body, "nan") == 0) {
        *d = NAN;
        return true;
    }
    if (strcmp(body, "inf") == 0) {
        *d = *s == '-' ? -INFINITY : INFINITY;
        return true;
    }
    *d = g_ascii_strtod(s, &end);
    return *s && !*end;
}

static bool take_digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!g_ascii_isdigit(**p))
            return false;
        *out = *out * 10 + (**p - '0');
    }
    return true;
}

/* Days since 1970-01-01 in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * A date-time of toml-test type @type as (seconds, nanoseconds): for
 * "datetime" the instant in UTC, for the local types their wall-clock
 * value. Accepts what RFC 3339 and TOML allow ('t', ' ', 'z', any number
 * of fraction digits), so differently written equal values compare equal.
 */
static bool parse_datetime(const char *type, const char *s, int64_t *secs, int *ns)
{
    bool date = strcmp(type, "time-local") != 0;
    bool time = strcmp(type, "date-local") != 0;
    bool offset = strcmp(type, "datetime") == 0;
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, k = 0, oh = 0, om = 0, sign = 1;

    *ns = 0;
    if (date && !(take_digits(&s, 4, &y) && *s++ == '-' && take_digits(&s, 2, &mo) &&
                  *s++ == '-' && take_digits(&s, 2, &d)))
        return false;
    if (date && time && !strchr("Tt ", *s++))
        return false;
    if (time) {
        if (!(take_digits(&s, 2, &h) && *s++ == ':' && take_digits(&s, 2, &mi) &&
              *s++ == ':' && take_digits(&s, 2, &sec)))
            return false;
        if (*s == '.') {
            for (s++; g_ascii_isdigit(*s); s++)
                if (k++ < 9)
                    *ns = *ns * 10 + (*s - '0');
            for (; k < 9; k++)
                *ns *= 10;
        }
    }
    if (offset && (*s == 'Z' || *s == 'z')) {
        s++;
    } else if (offset) {
        sign = *s == '-' ? -1 : 1;
        if (!strchr("+-", *s++) || !(take_digits(&s, 2, &oh) && *s++ == ':' &&
                                     take_digits(&s, 2, &om)))
            return false;
    }
    *secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
            sign * (oh * 60 + om) * 60;
    return *s == '\0';
}

static bool scalar_equal(const char *type, const char *want, const char *have, GString *why)
{
    if (strcmp(type, "float") == 0) {
        double a, b;
        if (!parse_float(want, &a) || !parse_float(have, &b))
            return false;
        return (isnan(a) && isnan(b)) || a == b;
    }
    if (strcmp(type, "datetime") == 0 || g_str_has_suffix(type, "-local")) {
        int64_t sa, sb;
        int na, nb;
        if (!parse_datetime(type, want, &sa, &na) || !parse_datetime(type, have, &sb, &nb))
            return false;
        return sa == sb && na == nb;
    }
    return false;
}

static bool compare(const jnode *want, const jnode *have, GString *path, GString *why);

static bool compare_tagged(const jnode *want, const jnode *have, GString *path, GString *why)
{
    const char *wt = member(want, "type"), *ht;

    if (!is_tagged(have)) {
        g_string_printf(why, "%s: want a %s, have something else", path->str, wt);
        return false;
    }
    ht = member(have, "type");
    if (strcmp(wt, ht) != 0) {
        g_string_printf(why, "%s: want type %s, have %s", path->str, wt, ht);
        return false;
    }
    /* Strings may hold NUL: compare the decoded bytes. */
    const GString *wv = NULL, *hv = NULL;
    for (guint i = 0; i < 2; i++) {
        if (strcmp(((GString *)want->keys->pdata[i])->str, "value") == 0)
            wv = ((jnode *)want->items->pdata[i])->text;
        if (strcmp(((GString *)have->keys->pdata[i])->str, "value") == 0)
            hv = ((jnode *)have->items->pdata[i])->text;
    }
    if (g_string_equal(wv, hv) || scalar_equal(wt, wv->str, hv->str, why))
        return true;
    g_string_printf(why, "%s: want %s %s, have %s", path->str, wt, wv->str, hv->str);
    return false;
}

static const jnode *find_member(const jnode *obj, const GString *key)
{
    for (guint i = 0; i < obj->keys->len; i++)
        if (g_string_equal(obj->keys->pdata[i], key))
            return obj->items->pdata[i];
    return NULL;
}

static bool compare_tables(const jnode *want, const jnode *have, GString *path, GString *why)
{
    if (have->kind != J_OBJECT || is_tagged(have)) {
        g_string_printf(why, "%s: want a table", path->str);
        return false;
    }
    if (want->keys->len != have->keys->len) {
        g_string_printf(why, "%s: want %u keys, have %u", path->str, want->keys->len,
                        have->keys->len);
        return false;
    }
    for (guint i = 0; i < want->keys->len; i++) {
        const GString *key = want->keys->pdata[i];
        const jnode *h = find_member(have, key);
        size_t len = path->len;
        g_string_append_printf(path, ".%s", key->str);
        if (!h) {
            g_string_printf(why, "%s: missing", path->str);
            return false;
        }
        if (!compare(want->items->pdata[i], h, path, why))
            return false;
        g_string_truncate(path, len);
    }
    return true;
}

static bool compare(const jnode *want, const jnode *have, GString *path, GString *why)
{
    if (is_tagged(want))
        return compare_tagged(want, have, path, why);
    if (want->kind == J_OBJECT)
        return compare_tables(want, have, path, why);
    if (want->kind != J_ARRAY) {
        g_string_printf(why, "%s: unexpected JSON in the expected output", path->str);
        return false;
    }
    if (have->kind != J_ARRAY || have->items->len != want->items->len) {
        g_string_printf(why, "%s: want an array of %u", path->str, want->items->len);
        return false;
    }
    for (guint i = 0; i < want->items->len; i++) {
        size_t len = path->len;
        g_string_append_printf(path, "[%u]", i);
        if (!compare(want->items->pdata[i], have->items->pdata[i], path, why))
            return false;
        g_string_truncate(path, len);
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Running the decoder                                                 */

typedef struct {
    int status;                 /* exit status, or -signal */
    GString *out, *err;
} run_result;

static bool slurp_fd(int fd, GString *out)
{
    char buf[65536];
    ssize_t n;

    if (lseek(fd, 0, SEEK_SET) < 0)
        return false;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        g_string_append_len(out, buf, n);
    return n == 0;
}

/* Output goes to memory files, so nothing blocks however much is written. */
static bool run_decoder(const char *decoder, const char *input, run_result *r)
{
    int in = open(input, O_RDONLY | O_CLOEXEC);
    int out = memfd_create("stdout", MFD_CLOEXEC), err = memfd_create("stderr", MFD_CLOEXEC);
    int status = 0;
    pid_t pid = -1;

    if (in >= 0 && out >= 0 && err >= 0)
        pid = fork();
    if (pid == 0) {
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        alarm(20);              /* survives exec: a hung decoder dies */
        execl(decoder, decoder, (char *)NULL);
        _exit(127);
    }
    if (in >= 0)
        close(in);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    r->out = g_string_new(NULL);
    r->err = g_string_new(NULL);
    bool ok = pid > 0 && slurp_fd(out, r->out) && slurp_fd(err, r->err);
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    return ok;
}

static bool check_valid(const char *dir, const char *name, const run_result *r, GString *why)
{
    char *path = g_strdup_printf("%s/%s.json", dir, name), *text;
    gsize len;
    jnode *want, *have;
    bool ok = false;

    if (r->status != 0 || r->err->len) {
        g_string_printf(why, "rejected (exit %d): %s", r->status, r->err->str);
        g_free(path);
        return false;
    }
    if (!g_file_get_contents(path, &text, &len, NULL)) {
        g_string_printf(why, "cannot read %s", path);
        g_free(path);
        return false;
    }
    want = json_parse(text, len);
    have = json_parse(r->out->str, r->out->len);
    if (!want)
        g_string_printf(why, "cannot parse %s", path);
    else if (!have)
        g_string_printf(why, "decoder wrote invalid JSON: %s", r->out->str);
    else {
        GString *where = g_string_new("(root)");
        ok = compare(want, have, where, why);
        g_string_free(where, TRUE);
    }
    jnode_free(want);
    jnode_free(have);
    g_free(text);
    g_free(path);
    return ok;
}

static bool check_invalid(const run_result *r, GString *why)
{
    unsigned line, col;
    char sep;

    if (r->status != 1) {
        g_string_printf(why, "accepted (exit %d): %.200s", r->status, r->out->str);
        return false;
    }
    if (sscanf(r->err->str, "<stdin>:%u:%u%c", &line, &col, &sep) != 3 || sep != ':') {
        g_string_printf(why, "message without a position: %s", r->err->str);
        return false;
    }
    return true;
}

static bool wanted(const char *name, char **filters)
{
    if (!*filters)
        return true;
    for (; *filters; filters++)
        if (strstr(name, *filters))
            return true;
    return false;
}

/*
 * The comparison itself, on pairs whose verdict is known: a comparator that
 * said "equal" to everything would make every valid case pass.
 */
static int self_test(void)
{
    static const struct {
        const char *want, *have;
        bool equal;
    } cases[] = {
#define T(type, v) "{\"type\":\"" type "\",\"value\":\"" v "\"}"
        { "{\"a\":" T("integer", "1") ",\"b\":" T("bool", "true") "}",
          "{\"b\":" T("bool", "true") ",\"a\":" T("integer", "1") "}", true },
        { "{\"a\":" T("integer", "1") "}", "{\"a\":" T("integer", "2") "}", false },
        { "{\"a\":" T("integer", "1") "}", "{\"a\":" T("integer", "01") "}", false },
        { "{\"a\":" T("integer", "1") "}", "{\"a\":" T("float", "1") "}", false },
        { "{\"a\":" T("integer", "1") "}", "{\"b\":" T("integer", "1") "}", false },
        { "{\"a\":" T("integer", "1") "}",
          "{\"a\":" T("integer", "1") ",\"b\":" T("integer", "1") "}", false },
        { "{\"a\":" T("integer", "1") "}", "{\"a\":{}}", false },
        { "{\"a\":{}}", "{\"a\":[]}", false },
        { "{\"a\":[" T("string", "x") "]}", "{\"a\":[]}", false },
        { "{\"a\":[" T("string", "x") "]}", "{\"a\":[" T("string", "y") "]}", false },
        { "{\"a\":" T("string", "x\\u0000y") "}", "{\"a\":" T("string", "x\\u0000z") "}", false },
        { "{\"a\":" T("float", "1000") "}", "{\"a\":" T("float", "1e3") "}", true },
        { "{\"a\":" T("float", "nan") "}", "{\"a\":" T("float", "-nan") "}", true },
        { "{\"a\":" T("float", "nan") "}", "{\"a\":" T("float", "0") "}", false },
        { "{\"a\":" T("float", "inf") "}", "{\"a\":" T("float", "-inf") "}", false },
        { "{\"a\":" T("float", "0.1") "}", "{\"a\":" T("float", "0.10000000000000002") "}", false },
        { "{\"a\":" T("datetime", "1979-05-27T07:32:00-08:00") "}",
          "{\"a\":" T("datetime", "1979-05-27T15:32:00Z") "}", true },
        { "{\"a\":" T("datetime", "1979-05-27T07:32:00-08:00") "}",
          "{\"a\":" T("datetime", "1979-05-27T07:32:00Z") "}", false },
        { "{\"a\":" T("datetime-local", "1979-05-27T07:32:00.500") "}",
          "{\"a\":" T("datetime-local", "1979-05-27 07:32:00.5") "}", true },
        { "{\"a\":" T("time-local", "07:32:00") "}", "{\"a\":" T("time-local", "07:32:01") "}", false },
        { "{\"a\":" T("date-local", "1979-05-27") "}", "{\"a\":" T("date-local", "1979-05-28") "}", false },
#undef T
    };
    int bad = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        jnode *want = json_parse(cases[i].want, strlen(cases[i].want));
        jnode *have = json_parse(cases[i].have, strlen(cases[i].have));
        GString *path = g_string_new("(root)"), *why = g_string_new(NULL);
        bool equal = want && have && compare(want, have, path, why);
        if (!want || !have || equal != cases[i].equal) {
            printf("FAIL comparator self-test %zu: %s vs %s should be %s\n", i, cases[i].want,
                   cases[i].have, cases[i].equal ? "equal" : "different");
            bad++;
        }
        jnode_free(want);
        jnode_free(have);
        g_string_free(path, TRUE);
        g_string_free(why, TRUE);
    }
    return bad;
}

#define SUITE_LIST "files-toml-1.0.0"
#define REQUIRE_VAR "VMM_REQUIRE_TOML_TEST"

/*
 * Where toml-test is, and the only places looked at: $TOML_TEST_DIR when it
 * is set (nothing else then); else shared/toml-test/tests in the folder
 * that holds the checkout or in any folder above it, the nearest first. A
 * workplace keeps one shared/ beside its checkouts, whatever they are
 * called and however deep: /work/main and a CI clone /work/ci find
 * /work/shared one level up, a worktree /work/wt/NAME two levels up.
 * Returns the folder (with SUITE_LIST in it), or NULL with every place
 * looked at in @looked.
 */
static char *find_suite(const char *checkout, GString *looked)
{
    const char *env = g_getenv("TOML_TEST_DIR");
    char *dir;

    if (env) {
        g_autofree char *list = g_build_filename(env, SUITE_LIST, NULL);

        g_string_append_printf(looked, "  %s (from $TOML_TEST_DIR)\n", list);
        return g_file_test(list, G_FILE_TEST_IS_REGULAR) ? g_strdup(env) : NULL;
    }
    g_string_append(looked, "  $TOML_TEST_DIR (not set)\n");
    g_autofree char *up = g_canonicalize_filename(checkout, NULL);
    for (;;) {
        char *parent = g_path_get_dirname(up);

        if (!strcmp(parent, up)) {       /* past "/" */
            g_free(parent);
            return NULL;
        }
        g_free(up);
        up = parent;
        dir = g_build_filename(up, "shared", "toml-test", "tests", NULL);
        g_autofree char *list = g_build_filename(dir, SUITE_LIST, NULL);
        g_string_append_printf(looked, "  %s\n", list);
        if (g_file_test(list, G_FILE_TEST_IS_REGULAR))
            return dir;
        g_free(dir);
    }
}

int main(int argc, char **argv)
{
    char *list, *text, *dir;
    int passed = 0, failed = 0, listed = 0, valid_n = 0, invalid_n = 0;
    GString *looked = g_string_new(NULL);

    if (argc < 3) {
        fprintf(stderr, "usage: %s DECODER CHECKOUT [SUBSTRING...]\n"
                        "  runs toml-test from $TOML_TEST_DIR, or from shared/toml-test/tests "
                        "beside CHECKOUT or above it\n", argv[0]);
        return 2;
    }
    if (self_test())
        return 1;
    dir = find_suite(argv[2], looked);
    /* Never a pass with 0 cases. Skipped where the suite is simply not
     * there (a checkout without the workplace beside it), but a failure
     * where it must be: scripts/test (what CI runs) sets REQUIRE_VAR, and
     * a $TOML_TEST_DIR that names no suite is a mistake. */
    if (!dir) {
        bool required = g_getenv(REQUIRE_VAR) && *g_getenv(REQUIRE_VAR);
        bool fail = required || g_getenv("TOML_TEST_DIR");

        printf("%s: toml-test (its tests/ folder, with " SUITE_LIST ") not found; "
               "looked at:\n%s", fail ? "FAIL" : "SKIP", looked->str);
        printf("Put toml-test in shared/toml-test beside the checkout (or above it), or set "
               "TOML_TEST_DIR to its tests/ folder.%s\n",
               required ? " " REQUIRE_VAR " is set: the suite is required here." : "");
        g_string_free(looked, TRUE);
        return fail ? 1 : 77;
    }
    g_string_free(looked, TRUE);
    list = g_build_filename(dir, SUITE_LIST, NULL);
    if (!g_file_get_contents(list, &text, NULL, NULL)) {
        printf("FAIL: cannot read %s\n", list);
        g_free(list);
        g_free(dir);
        return 1;
    }
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *name = g_strstrip(*l);
        if (!g_str_has_suffix(name, ".toml") || !wanted(name, argv + 3))
            continue;
        listed++;
        name[strlen(name) - 5] = '\0';
        bool valid = g_str_has_prefix(name, "valid/");
        if (!valid && !g_str_has_prefix(name, "invalid/")) {
            failed++;
            printf("FAIL %s: neither valid/ nor invalid/\n", name);
            continue;
        }
        valid ? valid_n++ : invalid_n++;
        char *input = g_strdup_printf("%s/%s.toml", dir, name);
        GString *why = g_string_new(NULL);
        run_result r = { 0 };
        bool ok = run_decoder(argv[1], input, &r);
        if (!ok)
            g_string_printf(why, "cannot run %s on %s: %s", argv[1], input, g_strerror(errno));
        else
            ok = valid ? check_valid(dir, name, &r, why) : check_invalid(&r, why);
        if (ok) {
            passed++;
        } else {
            failed++;
            printf("FAIL %s: %s\n", name, g_strchomp(why->str));
        }
        if (r.out)
            g_string_free(r.out, TRUE);
        if (r.err)
            g_string_free(r.err, TRUE);
        g_string_free(why, TRUE);
        g_free(input);
    }
    printf("%s: %d valid and %d invalid cases listed\n", list, valid_n, invalid_n);
    printf("%d passed, %d failed\n", passed, failed);
    /* Without filters, both kinds must be there: an empty or truncated
     * list is a broken checkout, not a pass. */
    if (!argv[3] && (!valid_n || !invalid_n)) {
        printf("FAIL: the list has no %s cases\n", valid_n ? "invalid" : "valid");
        failed++;
    }
    g_strfreev(lines);
    g_free(text);
    g_free(list);
    g_free(dir);
    return failed || !passed || passed != listed ? 1 : 0;
}
