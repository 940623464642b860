/*
 * The TOML reader must take linear time whatever the input's shape. For
 * each shape below this builds a small document and one FACTOR (16) times
 * larger, and compares the cost of parsing them: linear work gives about
 * 16, quadratic work 256; more than 2 x 16 = 32 fails.
 *
 *   toml-scaling --callgrind VALGRIND
 *       the cost is the instructions toml_parse() executes, counted by
 *       callgrind (16 KiB and 256 KiB documents): exact, so this is what
 *       meson test runs.
 *   toml-scaling [--verbose]
 *       the cost is process CPU time, best of 5, 64 KiB and 1 MiB
 *       documents: for throughput figures. Cache effects and busy
 *       neighbours move these ratios (20-36 seen for linear shapes on a
 *       shared machine), so it is a report, not a verdict.
 *   toml-scaling --one SHAPE BYTES
 *       parse one document once (shapes are numbered from 0).
 */
#include "vmm/toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SMALL (64 * 1024)
#define FACTOR 16
#define MAX_RATIO (2.0 * FACTOR)
#define CG_SMALL (16 * 1024)
#define RUNS 5
#define ATTEMPTS 3

/* Appends pieces until @doc holds @size bytes; @piece(doc, i) adds one. */
typedef void (*piece_fn)(GString *doc, unsigned i);

typedef struct {
    const char *name;
    const char *head, *tail;    /* around the pieces */
    piece_fn piece;
    bool fails;                 /* the document is meant to be rejected */
} shape;

static void many_keys(GString *d, unsigned i) { g_string_append_printf(d, "key%u = %u\n", i, i); }
static void many_tables(GString *d, unsigned i) { g_string_append_printf(d, "[t%u]\nx = 1\n", i); }
static void many_aot(GString *d, unsigned i) { g_string_append_printf(d, "[[disk]]\nid = %u\n", i); }
static void aot_sub(GString *d, unsigned i) { g_string_append_printf(d, "[[a.b]]\nid = %u\n", i); }
static void deep_headers(GString *d, unsigned i) { g_string_append_printf(d, "[a.b.c.d.e.k%u]\n", i); }
static void dotted(GString *d, unsigned i) { g_string_append_printf(d, "a.b.c.d.k%u = %u\n", i, i); }
static void basic_chars(GString *d, unsigned i) { g_string_append(d, "ab\\n\\u00e9\\\"\xc3\xa9"); }
static void literal_chars(GString *d, unsigned i) { g_string_append(d, "C:\\path\\x "); }
static void ml_chars(GString *d, unsigned i) { g_string_append(d, "a\"\"b \\\n   \n"); }
static void comment_lines(GString *d, unsigned i) { g_string_append(d, "# a comment line \xc3\xa9\n"); }
static void array_items(GString *d, unsigned i) { g_string_append_printf(d, "%u, ", i); }
static void nested_arrays(GString *d, unsigned i)
{
    for (int k = 0; k < 100; k++)
        g_string_append_c(d, '[');
    for (int k = 0; k < 100; k++)
        g_string_append_c(d, ']');
    g_string_append(d, ",\n");
}
static void inline_tables(GString *d, unsigned i)
{
    g_string_append_printf(d, "t%u = { x = 1, y = { z = [1.5, \"s\"] }, w.v = true }\n", i);
}
static void dates(GString *d, unsigned i) { g_string_append_printf(d, "d%u = 1979-05-27T07:32:00.999-08:00\n", i); }
static void one_long_line(GString *d, unsigned i) { g_string_append(d, "xxxxxxxx"); }
/* Keys that share a long prefix: hashing and comparing them stays cheap. */
static void long_keys(GString *d, unsigned i)
{
    g_string_append(d, "\"");
    for (int k = 0; k < 200; k++)
        g_string_append_c(d, 'p');
    g_string_append_printf(d, "%u\" = 1\n", i);
}

static const shape shapes[] = {
    { "many keys", "", "", many_keys, false },
    { "many tables", "", "", many_tables, false },
    { "array of tables", "", "", many_aot, false },
    { "nested array of tables", "[[a]]\n", "", aot_sub, false },
    { "deep table headers", "", "", deep_headers, false },
    { "dotted keys", "", "", dotted, false },
    { "long basic string", "s = \"", "\"\n", basic_chars, false },
    { "long literal string", "s = '", "'\n", literal_chars, false },
    { "long multi-line string", "s = \"\"\"", "\"\"\"\n", ml_chars, false },
    { "comments", "", "", comment_lines, false },
    { "long array", "a = [", "]\n", array_items, false },
    { "nested arrays", "a = [", "]\n", nested_arrays, false },
    { "inline tables", "", "", inline_tables, false },
    { "date-times", "", "", dates, false },
    { "long keys", "", "", long_keys, false },
    { "error at end of a long line", "s = \"", "\" junk\n", one_long_line, true },
    { "duplicate key at the end", "", "key0 = 0\n", many_keys, true },
};

static GString *build(const shape *s, size_t size)
{
    GString *d = g_string_new(s->head);

    for (unsigned i = 0; d->len < size; i++)
        s->piece(d, i);
    g_string_append(d, s->tail);
    return d;
}

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Best of RUNS, in seconds; -1 if the verdict is not the expected one. */
static double parse_time(const shape *s, const GString *d)
{
    double best = 1e9;

    for (int r = 0; r < RUNS; r++) {
        GError *error = NULL;
        double t0 = cpu_now();
        toml_value *root = toml_parse(d->str, d->len, "scaling", &error);
        toml_free(root);
        double t = cpu_now() - t0;
        if (!root != s->fails) {
            printf("FAIL %s: %s\n", s->name, root ? "accepted" : error->message);
            g_clear_error(&error);
            return -1;
        }
        g_clear_error(&error);
        if (t < best)
            best = t;
    }
    return best;
}

/* Instructions toml_parse() executes on shape @i at @size bytes, or 0. */
static guint64 instructions(const char *valgrind, const char *self, size_t i, size_t size)
{
    char which[16], bytes[32];
    char *argv[] = { (char *)valgrind, "--tool=callgrind", "--toggle-collect=toml_parse",
                     "--callgrind-out-file=/dev/null", (char *)self, "--one", which, bytes,
                     NULL };
    char *err = NULL, *at;
    int status;
    guint64 n = 0;

    snprintf(which, sizeof which, "%zu", i);
    snprintf(bytes, sizeof bytes, "%zu", size);
    if (g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, NULL) &&
        g_spawn_check_wait_status(status, NULL) && (at = strstr(err, "Collected : ")))
        n = g_ascii_strtoull(at + strlen("Collected : "), NULL, 10);
    g_free(err);
    return n;
}

static int by_callgrind(const char *valgrind, const char *self)
{
    int failed = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        guint64 small = instructions(valgrind, self, i, CG_SMALL);
        guint64 big = instructions(valgrind, self, i, CG_SMALL * FACTOR);
        double ratio = small ? (double)big / small : 0;
        bool ok = small && big && ratio <= MAX_RATIO;

        if (!ok)
            failed++;
        printf("%s %-30s %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT " instructions  ratio %5.1f\n",
               ok ? "ok  " : "FAIL", shapes[i].name, small, big, ratio);
    }
    printf("%zu shapes, %d above a ratio of %.0f (or not measured)\n", G_N_ELEMENTS(shapes),
           failed, MAX_RATIO);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    bool verbose = argc > 1 && strcmp(argv[1], "--verbose") == 0;
    int failed = 0;

    if (argc == 3 && strcmp(argv[1], "--callgrind") == 0)
    {
        /* valgrind must run this very binary, wherever meson ran it from. */
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        return by_callgrind(argv[2], self ? self : argv[0]);
    }
    if (argc == 4 && strcmp(argv[1], "--one") == 0) {
        size_t i = strtoul(argv[2], NULL, 10);
        if (i >= G_N_ELEMENTS(shapes))
            return 2;
        GString *d = build(&shapes[i], strtoul(argv[3], NULL, 10));
        toml_value *root = toml_parse(d->str, d->len, "scaling", NULL);
        printf("%s: %zu bytes, %s\n", shapes[i].name, d->len, root ? "accepted" : "rejected");
        toml_free(root);
        g_string_free(d, TRUE);
        return 0;
    }

    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        const shape *s = &shapes[i];
        GString *small = build(s, SMALL), *big = build(s, SMALL * FACTOR);
        double ts = 0, tb = 0, ratio = 0;
        bool ok = false;

        /* A busy neighbour can slow one measurement; quadratic work is
         * slow every time. So a shape "fails" only if all attempts do. */
        for (int attempt = 0; attempt < ATTEMPTS && !ok; attempt++) {
            ts = parse_time(s, small);
            tb = parse_time(s, big);
            if (ts < 0 || tb < 0)
                break;
            /* Below the clock's resolution the ratio means nothing: count
             * a few microseconds as the floor. */
            ratio = tb / (ts > 5e-6 ? ts : 5e-6);
            ok = ratio <= MAX_RATIO;
        }
        if (!ok)
            failed++;
        if (!ok || verbose)
            printf("%s %-30s %7zu B %8.3f ms  %7zu B %8.3f ms  ratio %5.1f (%.0f MB/s)\n",
                   ok ? "ok  " : "FAIL", s->name, small->len, ts * 1e3, big->len, tb * 1e3,
                   ratio, big->len / tb / 1e6);
        g_string_free(small, TRUE);
        g_string_free(big, TRUE);
    }
    printf("%zu shapes, %d above a ratio of %.0f\n", G_N_ELEMENTS(shapes), failed, MAX_RATIO);
    return failed ? 1 : 0;
}
