/*
 * TOML 1.0.0 reader.
 *
 * One pass over the text builds the tree directly; there is no separate
 * token stream. Recursion only follows nesting of arrays and inline tables,
 * and every container checks TOML_MAX_DEPTH before it recurses, so hostile
 * input cannot exhaust the stack. Values live in chunks owned by the
 * document: a parse that fails half-way just frees the document, with no
 * per-path cleanup.
 */
#include "vmm/toml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(vmm-toml-error-quark, vmm_toml_error)

/* ------------------------------------------------------------------ */
/* The tree                                                            */

/*
 * How a table or array came to be. What may later extend or redefine it
 * depends on this alone (TOML 1.0, "Table" and "Array of Tables").
 */
enum origin {
    ORIGIN_ROOT,
    ORIGIN_HEADER,    /* named by a [header], or an element of [[header]] */
    ORIGIN_IMPLICIT,  /* a leading part of a header path: [a] may still come */
    ORIGIN_DOTTED,    /* made by a dotted key: only dotted keys extend it */
    ORIGIN_INLINE,    /* { ... }: complete when closed */
    ORIGIN_STATIC,    /* array written as [ ... ] */
    ORIGIN_AOT,       /* array of tables, grown by [[header]] */
};

typedef struct toml_doc toml_doc;

struct toml_value {
    uint8_t type;
    uint8_t origin;
    uint16_t depth;
    unsigned line, col;
    toml_value *parent;
    toml_doc *doc;
    char *key;                  /* name in the parent table */
    size_t key_len;
    union {
        struct { char *ptr; size_t len; } str;
        int64_t i;
        double f;
        bool b;
        toml_datetime dt;
        struct {
            toml_value **items;
            size_t len, cap;
            /* Hash index of a big table: item index + 1, 0 is empty. */
            uint32_t *slots;
            size_t nslots;
        } c;
    } u;
};

#define CHUNK_VALUES 64

struct chunk {
    struct chunk *next;
    unsigned used;
    toml_value v[CHUNK_VALUES];
};

struct toml_doc {
    char *source;
    struct chunk *chunks;
    /* A per-document key keeps chosen colliding keys from making table
     * lookups quadratic. */
    uint64_t hash_key[2];
};

static void doc_free(toml_doc *doc)
{
    struct chunk *c = doc->chunks;

    while (c) {
        struct chunk *next = c->next;
        for (unsigned i = 0; i < c->used; i++) {
            toml_value *v = &c->v[i];
            g_free(v->key);
            if (v->type == TOML_STRING)
                g_free(v->u.str.ptr);
            else if (v->type == TOML_TABLE || v->type == TOML_ARRAY) {
                g_free(v->u.c.items);
                g_free(v->u.c.slots);
            }
        }
        g_free(c);
        c = next;
    }
    g_free(doc->source);
    g_free(doc);
}

/* SipHash-1-3 (Aumasson, Bernstein): keyed, so lookups stay O(1) on
 * average whatever keys an input chooses. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                       \
    do {                                                               \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
    } while (0)

static uint64_t siphash13(const uint64_t k[2], const char *data, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ k[0];
    uint64_t v3 = 0x7465646279746573ULL ^ k[1];
    const unsigned char *p = (const unsigned char *)data;
    size_t whole = len & ~(size_t)7;
    uint64_t m;

    for (size_t i = 0; i < whole; i += 8) {
        memcpy(&m, p + i, 8);
        m = GUINT64_FROM_LE(m);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    m = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        m |= (uint64_t)p[whole + i] << (8 * i);
    v3 ^= m;
    SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Small tables are searched linearly: cheaper than hashing, and most
 * config tables are small. */
#define INDEX_THRESHOLD 8

static bool key_is(const toml_value *v, const char *key, size_t len)
{
    return v->key_len == len && memcmp(v->key, key, len) == 0;
}

static size_t home_slot(const toml_value *t, const char *key, size_t len)
{
    return siphash13(t->doc->hash_key, key, len) & (t->u.c.nslots - 1);
}

static toml_value *table_find(const toml_value *t, const char *key, size_t len)
{
    if (!t->u.c.slots) {
        for (size_t i = 0; i < t->u.c.len; i++)
            if (key_is(t->u.c.items[i], key, len))
                return t->u.c.items[i];
        return NULL;
    }
    size_t mask = t->u.c.nslots - 1;
    for (size_t s = home_slot(t, key, len);; s = (s + 1) & mask) {
        uint32_t idx = t->u.c.slots[s];
        if (!idx)
            return NULL;
        if (key_is(t->u.c.items[idx - 1], key, len))
            return t->u.c.items[idx - 1];
    }
}

static void index_insert(toml_value *t, size_t item)
{
    const toml_value *v = t->u.c.items[item];
    size_t mask = t->u.c.nslots - 1;
    size_t s = home_slot(t, v->key, v->key_len);

    while (t->u.c.slots[s])
        s = (s + 1) & mask;
    t->u.c.slots[s] = (uint32_t)(item + 1);
}

static void index_rebuild(toml_value *t, size_t nslots)
{
    g_free(t->u.c.slots);
    t->u.c.slots = g_new0(uint32_t, nslots);
    t->u.c.nslots = nslots;
    for (size_t i = 0; i < t->u.c.len; i++)
        index_insert(t, i);
}

static void push_item(toml_value *c, toml_value *v)
{
    if (c->u.c.len == c->u.c.cap) {
        c->u.c.cap = c->u.c.cap ? 2 * c->u.c.cap : 4;
        c->u.c.items = g_renew(toml_value *, c->u.c.items, c->u.c.cap);
    }
    c->u.c.items[c->u.c.len++] = v;
    v->parent = c;
}

/* The caller has checked that the key is new. */
static void table_add(toml_value *t, toml_value *v)
{
    push_item(t, v);
    size_t n = t->u.c.len;
    if (n <= INDEX_THRESHOLD)
        return;
    /* Load at most 1/2 keeps probe sequences short. */
    if (!t->u.c.slots || 2 * n > t->u.c.nslots)
        index_rebuild(t, t->u.c.slots ? 2 * t->u.c.nslots : 4 * INDEX_THRESHOLD);
    else
        index_insert(t, n - 1);
}

static void set_key(toml_value *v, const char *key, size_t len)
{
    v->key = g_malloc(len + 1);
    memcpy(v->key, key, len);
    v->key[len] = '\0';
    v->key_len = len;
}

/* ------------------------------------------------------------------ */
/* Characters                                                          */

static bool is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Characters of an unquoted value: numbers, booleans, dates and times,
 * and the bare words people write by mistake. */
static bool is_word_char(int c)
{
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_control(int c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Length of the well-formed UTF-8 sequence at @p (no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const char *s, size_t avail)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp, min;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2; cp = p[0] & 0x1F; min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3; cp = p[0] & 0x0F; min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4; cp = p[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Appends @key as TOML would write it: bare when it can be. */
static void append_key(GString *s, const char *key, size_t len)
{
    bool bare = len > 0;

    for (size_t i = 0; i < len && bare; i++)
        bare = is_bare_key_char((unsigned char)key[i]);
    if (bare) {
        g_string_append_len(s, key, len);
        return;
    }
    g_string_append_c(s, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = key[i];
        if (c == '"' || c == '\\')
            g_string_append_printf(s, "\\%c", c);
        else if (is_control(c) || c == '\t')
            g_string_append_printf(s, "\\u%04X", c);
        else
            g_string_append_c(s, c);
    }
    g_string_append_c(s, '"');
}

/* ------------------------------------------------------------------ */
/* The parser's cursor and errors                                      */

typedef struct {
    const char *p;
    unsigned line, col;         /* of *p; col counts code points */
} cursor;

/* One segment of a dotted key; its bytes are in parser.keys. */
struct seg {
    size_t off, len;
    unsigned line, col;
};

typedef struct {
    cursor c;
    const char *end;
    toml_doc *doc;
    toml_value *root;
    toml_value *section;        /* where key = value lines go */
    GString *buf;               /* a string value being decoded */
    GString *keys;              /* segments of the key being read */
    GArray *segs;               /* struct seg */
    cursor key_start;
    GError *error;
    /* The text is not known to be a config (a file not named *.toml):
     * errors say where and why, never quote it, so a config path naming
     * a system file cannot be used to read that file's first line. */
    bool redact;
} parser;

static int peek_at(const parser *P, size_t k)
{
    return (size_t)(P->end - P->c.p) > k ? (unsigned char)P->c.p[k] : -1;
}

static int peek(const parser *P)
{
    return peek_at(P, 0);
}

/* Columns advance once per character: continuation bytes don't count. */
static void adv(parser *P)
{
    unsigned char b = *P->c.p++;

    if (b == '\n') {
        P->c.line++;
        P->c.col = 1;
    } else if ((b & 0xC0) != 0x80) {
        P->c.col++;
    }
}

static void adv_n(parser *P, size_t n)
{
    while (n--)
        adv(P);
}

static bool at_newline(const parser *P)
{
    int c = peek(P);
    return c == '\n' || (c == '\r' && peek_at(P, 1) == '\n');
}

static void skip_newline(parser *P)
{
    if (peek(P) == '\r')
        adv(P);
    adv(P);
}

static void skip_ws(parser *P)
{
    while (peek(P) == ' ' || peek(P) == '\t')
        adv(P);
}

static bool G_GNUC_PRINTF(4, 0)
fail_va(parser *P, const cursor *at, int code, const char *fmt, va_list ap)
{
    if (!P->error) {
        char *msg = g_strdup_vprintf(fmt, ap);
        P->error = g_error_new(VMM_TOML_ERROR, code, "%s:%u:%u: %s%s",
                               P->doc->source, at->line, at->col, msg,
                               P->redact ? " (text not shown: the file's name does not end "
                                           "in .toml)" : "");
        g_free(msg);
    }
    return false;
}

static bool G_GNUC_PRINTF(3, 4)
fail_at(parser *P, const cursor *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(P, at, VMM_TOML_ERROR_SYNTAX, fmt, ap);
    va_end(ap);
    return false;
}

static bool G_GNUC_PRINTF(2, 3)
fail(parser *P, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(P, &P->c, VMM_TOML_ERROR_SYNTAX, fmt, ap);
    va_end(ap);
    return false;
}

static bool G_GNUC_PRINTF(3, 4)
fail_limit(parser *P, const cursor *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_va(P, at, VMM_TOML_ERROR_LIMIT, fmt, ap);
    va_end(ap);
    return false;
}

#define SHOWN_MAX 40

/* Names what is at the cursor, for "expected X, found Y". A run of word
 * characters is shown whole: "found "64M"" says more than "found "6"". */
static void describe(const parser *P, char *out, size_t size)
{
    const char *p = P->c.p;
    size_t avail = P->end - p, n;
    int c = peek(P);

    if (c == -1)
        snprintf(out, size, "end of file");
    else if (at_newline(P))
        snprintf(out, size, "end of line");
    else if (c == '\r')
        snprintf(out, size, "a carriage return without a line feed");
    else if (c == '"')
        snprintf(out, size, "'\"'");
    else if (c == ' ')
        snprintf(out, size, "a space");
    else if (c == '\t')
        snprintf(out, size, "a tab");
    else if (is_control(c))
        snprintf(out, size, "control character U+%04X", c);
    else if (P->redact)
        snprintf(out, size, "other text");
    else if (is_word_char(c)) {
        for (n = 0; n < avail && n <= SHOWN_MAX && is_word_char((unsigned char)p[n]); n++)
            ;
        snprintf(out, size, "\"%.*s%s\"", (int)MIN(n, SHOWN_MAX), p,
                 n > SHOWN_MAX ? "..." : "");
    } else if (c < 0x80)
        snprintf(out, size, "\"%c\"", c);
    else if ((n = utf8_seq(p, avail)))
        snprintf(out, size, "\"%.*s\" (U+%04X)", (int)n, p, g_utf8_get_char(p));
    else
        snprintf(out, size, "invalid UTF-8 (byte 0x%02X)", c);
}

/* "a.b" as the user would recognise it, quoted for a message. */
static char *key_display(const parser *P, size_t nsegs)
{
    GString *s = g_string_new(NULL);

    if (P->redact)
        return g_string_free(g_string_append(s, "(hidden)"), FALSE);
    for (size_t i = 0; i < nsegs; i++) {
        const struct seg *g = &g_array_index(P->segs, struct seg, i);
        if (i)
            g_string_append_c(s, '.');
        append_key(s, P->keys->str + g->off, g->len);
    }
    if (!strchr(s->str, '"')) {
        g_string_prepend_c(s, '"');
        g_string_append_c(s, '"');
    }
    return g_string_free(s, FALSE);
}

/* The header's key without brackets, for "table [a.b] ...". */
static char *header_display(const parser *P)
{
    GString *s = g_string_new(NULL);

    if (P->redact)
        return g_string_free(g_string_append(s, "(hidden)"), FALSE);
    for (size_t i = 0; i < P->segs->len; i++) {
        const struct seg *g = &g_array_index(P->segs, struct seg, i);
        if (i)
            g_string_append_c(s, '.');
        append_key(s, P->keys->str + g->off, g->len);
    }
    return g_string_free(s, FALSE);
}

static const char *type_article(toml_type t)
{
    switch (t) {
    case TOML_TABLE: return "a table";
    case TOML_ARRAY: return "an array";
    case TOML_STRING: return "a string";
    case TOML_INTEGER: return "an integer";
    case TOML_FLOAT: return "a float";
    case TOML_BOOL: return "a boolean";
    case TOML_DATETIME: return "an offset date-time";
    case TOML_DATETIME_LOCAL: return "a local date-time";
    case TOML_DATE_LOCAL: return "a local date";
    case TOML_TIME_LOCAL: return "a local time";
    }
    return "a value";
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static toml_value *new_value(parser *P, toml_type type, const cursor *at)
{
    toml_doc *d = P->doc;

    if (!d->chunks || d->chunks->used == CHUNK_VALUES) {
        struct chunk *c = g_new(struct chunk, 1);
        c->used = 0;
        c->next = d->chunks;
        d->chunks = c;
    }
    toml_value *v = &d->chunks->v[d->chunks->used++];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->doc = d;
    v->line = at->line;
    v->col = at->col;
    return v;
}

static toml_value *new_container(parser *P, toml_type type, enum origin origin,
                                 const cursor *at, unsigned depth)
{
    if (depth > TOML_MAX_DEPTH) {
        fail_limit(P, at, "nesting too deep (more than %d levels)", TOML_MAX_DEPTH);
        return NULL;
    }
    toml_value *v = new_value(P, type, at);
    v->origin = origin;
    v->depth = depth;
    return v;
}

/* ------------------------------------------------------------------ */
/* Comments, line ends, strings                                        */

/* Consumes one character of a comment or string, copying it to @out if
 * given. TOML bans raw control characters (but tab) everywhere. */
static bool take_char(parser *P, GString *out, const char *where)
{
    const char *p = P->c.p;
    unsigned char c = *p;
    size_t n = 1;

    if (is_control(c))
        return fail(P, "control character U+%04X is not allowed in %s", c, where);
    if (c >= 0x80 && !(n = utf8_seq(p, P->end - p)))
        return fail(P, "invalid UTF-8 (byte 0x%02X) in %s", c, where);
    if (out)
        g_string_append_len(out, p, n);
    adv_n(P, n);
    return true;
}

static bool skip_comment(parser *P)
{
    adv(P);
    while (peek(P) != -1 && !at_newline(P))
        if (!take_char(P, NULL, "a comment"))
            return false;
    return true;
}

/* After a value or header: only a comment may follow on the line. */
static bool end_of_line(parser *P, const char *after)
{
    char found[64];

    skip_ws(P);
    if (peek(P) == '#' && !skip_comment(P))
        return false;
    if (peek(P) == -1)
        return true;
    if (at_newline(P)) {
        skip_newline(P);
        return true;
    }
    describe(P, found, sizeof found);
    if (!after)
        return fail(P, "%s is not allowed here", found);
    return fail(P, "expected end of line after %s, found %s", after, found);
}

static bool unicode_escape(parser *P, const cursor *at, int ndigits, GString *out)
{
    const char *p = P->c.p;     /* at the backslash */
    uint32_t cp = 0;
    char utf8[6];

    for (int i = 0; i < ndigits; i++) {
        int d = digit_value(peek_at(P, 2 + i));
        if (d < 0 && P->redact)
            return fail_at(P, at, "invalid escape in string: expected %d hex digits", ndigits);
        if (d < 0)
            return fail_at(P, at, "invalid escape \"\\%c%.*s\" in string: expected %d hex digits",
                           p[1], i, p + 2, ndigits);
        cp = cp << 4 | (uint32_t)d;
    }
    if ((cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) && P->redact)
        return fail_at(P, at, "invalid escape in string: not a Unicode scalar value");
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail_at(P, at, "invalid escape \"\\%c%.*s\" in string: not a Unicode scalar value",
                       p[1], ndigits, p + 2);
    g_string_append_len(out, utf8, g_unichar_to_utf8(cp, utf8));
    adv_n(P, 2 + ndigits);
    return true;
}

static bool bad_escape(parser *P, const cursor *at)
{
    const char *p = P->c.p + 1;
    size_t avail = P->end - p, n;
    int c = peek_at(P, 1);

    if (c == -1 || c == '\n' || c == '\r')
        return fail_at(P, at, "invalid escape: \"\\\" at end of line "
                       "(write \"\\\\\" for a backslash)");
    if (P->redact)
        return fail_at(P, at, "invalid escape in string");
    if (c >= 0x20 && c < 0x7f)
        return fail_at(P, at, "invalid escape \"\\%c\" in string", c);
    if (c >= 0x80 && (n = utf8_seq(p, avail)))
        return fail_at(P, at, "invalid escape \"\\%.*s\" in string", (int)n, p);
    return fail_at(P, at, "invalid escape in string: \"\\\" followed by U+%04X", c);
}

static bool parse_escape(parser *P, GString *out)
{
    cursor at = P->c;
    char ch;

    switch (peek_at(P, 1)) {
    case 'b': ch = '\b'; break;
    case 't': ch = '\t'; break;
    case 'n': ch = '\n'; break;
    case 'f': ch = '\f'; break;
    case 'r': ch = '\r'; break;
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case 'u': return unicode_escape(P, &at, 4, out);
    case 'U': return unicode_escape(P, &at, 8, out);
    default: return bad_escape(P, &at);
    }
    g_string_append_c(out, ch);
    adv_n(P, 2);
    return true;
}

static bool basic_string(parser *P, GString *out)
{
    cursor open = P->c;

    adv(P);
    for (;;) {
        int c = peek(P);
        if (c == '"') {
            adv(P);
            return true;
        }
        if (c == -1 || at_newline(P))
            return fail_at(P, &open, "unterminated string");
        if (c == '\\') {
            if (!parse_escape(P, out))
                return false;
        } else if (!take_char(P, out, "a string")) {
            return false;
        }
    }
}

static bool literal_string(parser *P, GString *out)
{
    cursor open = P->c;

    adv(P);
    for (;;) {
        int c = peek(P);
        if (c == '\'') {
            adv(P);
            return true;
        }
        if (c == -1 || at_newline(P))
            return fail_at(P, &open, "unterminated string");
        if (!take_char(P, out, "a literal string"))
            return false;
    }
}

/*
 * At a quote inside a multi-line string: up to two quotes may stand right
 * before the closing three. Returns 1 when the string ended, 0 when the
 * quotes were content, -1 on error.
 */
static int ml_quotes(parser *P, char q, GString *out)
{
    size_t n = 0;

    while (peek_at(P, n) == q)
        n++;
    if (n > 5) {
        if (q == '"')
            fail(P, "\"\"\" inside a multi-line string must be escaped");
        else
            fail(P, "''' cannot appear inside a multi-line literal string");
        return -1;
    }
    g_string_append_len(out, P->c.p, n >= 3 ? n - 3 : n);
    adv_n(P, n);
    return n >= 3;
}

/* A backslash that ends a line eats the line end and all whitespace after. */
static bool line_ending_backslash(const parser *P)
{
    size_t k = 1;

    while (peek_at(P, k) == ' ' || peek_at(P, k) == '\t')
        k++;
    return peek_at(P, k) == '\n' || (peek_at(P, k) == '\r' && peek_at(P, k + 1) == '\n');
}

static bool ml_string(parser *P, char q, GString *out)
{
    cursor open = P->c;
    const char *where = q == '"' ? "a string" : "a literal string";

    adv_n(P, 3);
    /* A line end right after the opening quotes is not content. */
    if (at_newline(P))
        skip_newline(P);
    for (;;) {
        int c = peek(P);
        if (c == -1)
            return fail_at(P, &open, "unterminated multi-line string");
        if (c == q) {
            int r = ml_quotes(P, q, out);
            if (r)
                return r > 0;
        } else if (at_newline(P)) {
            g_string_append_c(out, '\n');
            skip_newline(P);
        } else if (c == '\\' && q == '"' && line_ending_backslash(P)) {
            adv(P);
            while (peek(P) == ' ' || peek(P) == '\t' || at_newline(P))
                adv(P);
        } else if (c == '\\' && q == '"') {
            if (!parse_escape(P, out))
                return false;
        } else if (!take_char(P, out, where)) {
            return false;
        }
    }
}

static bool is_triple(const parser *P, int q)
{
    return peek_at(P, 1) == q && peek_at(P, 2) == q;
}

static toml_value *string_value(parser *P)
{
    cursor at = P->c;
    int q = peek(P);
    bool ok;

    g_string_truncate(P->buf, 0);
    if (is_triple(P, q))
        ok = ml_string(P, (char)q, P->buf);
    else if (q == '"')
        ok = basic_string(P, P->buf);
    else
        ok = literal_string(P, P->buf);
    if (!ok)
        return NULL;
    toml_value *v = new_value(P, TOML_STRING, &at);
    v->u.str.len = P->buf->len;
    v->u.str.ptr = g_malloc(P->buf->len + 1);
    memcpy(v->u.str.ptr, P->buf->str, P->buf->len + 1);
    return v;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

/* Reads a (dotted) key into P->keys / P->segs and skips the blanks after it. */
static bool parse_key(parser *P, const char *where)
{
    char found[64];

    g_string_truncate(P->keys, 0);
    g_array_set_size(P->segs, 0);
    skip_ws(P);
    P->key_start = P->c;
    for (;;) {
        struct seg s = { P->keys->len, 0, P->c.line, P->c.col };
        int c = peek(P);

        if (c == '"' || c == '\'') {
            if (is_triple(P, c))
                return fail(P, "a multi-line string cannot be a key");
            if (!(c == '"' ? basic_string(P, P->keys) : literal_string(P, P->keys)))
                return false;
        } else if (is_bare_key_char(c)) {
            const char *start = P->c.p;
            while (is_bare_key_char(peek(P)))
                adv(P);
            g_string_append_len(P->keys, start, P->c.p - start);
        } else {
            describe(P, found, sizeof found);
            return fail(P, "expected a key%s, found %s", where, found);
        }
        s.len = P->keys->len - s.off;
        g_array_append_val(P->segs, s);
        skip_ws(P);
        if (peek(P) != '.')
            return true;
        adv(P);
        skip_ws(P);
    }
}

static const char *seg_key(const parser *P, size_t i, size_t *len)
{
    const struct seg *s = &g_array_index(P->segs, struct seg, i);
    *len = s->len;
    return P->keys->str + s->off;
}

/* ------------------------------------------------------------------ */
/* Numbers, booleans, dates and times                                  */

static bool base_digit_at(const char *s, size_t n, size_t j, int base)
{
    int d = j < n ? digit_value((unsigned char)s[j]) : -1;
    return d >= 0 && d < base;
}

/* DIGIT *( ["_"] DIGIT ) in @base: an underscore must sit between digits. */
static bool scan_digits(const char *s, size_t n, size_t *i, int base, GString *out)
{
    size_t j = *i;

    if (!base_digit_at(s, n, j, base))
        return false;
    for (;;) {
        g_string_append_c(out, s[j++]);
        bool underscore = j < n && s[j] == '_';
        if (underscore)
            j++;
        if (!base_digit_at(s, n, j, base)) {
            if (underscore)
                return false;
            break;
        }
    }
    *i = j;
    return true;
}

static bool accumulate(const char *digits, int base, bool neg, int64_t *out)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;

    for (const char *p = digits; *p; p++) {
        unsigned d = (unsigned)digit_value((unsigned char)*p);
        if (v > (limit - d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return true;
}

typedef struct {
    const char *s;              /* the word, not NUL-terminated */
    size_t n;
    cursor at;
} word;

static toml_value *word_fail(parser *P, const word *w, int code, const char *what,
                             const char *why)
{
    if (P->redact && code == VMM_TOML_ERROR_LIMIT)
        fail_limit(P, &w->at, "%s %s", what, why);
    else if (P->redact)
        fail_at(P, &w->at, "invalid %s%s%s", what, *why ? ": " : "", why);
    else if (code == VMM_TOML_ERROR_LIMIT)
        fail_limit(P, &w->at, "%s \"%.*s%s\" %s", what, (int)MIN(w->n, SHOWN_MAX), w->s,
                   w->n > SHOWN_MAX ? "..." : "", why);
    else
        fail_at(P, &w->at, "invalid %s \"%.*s%s\"%s%s", what, (int)MIN(w->n, SHOWN_MAX),
                w->s, w->n > SHOWN_MAX ? "..." : "", *why ? ": " : "", why);
    return NULL;
}

static toml_value *prefixed_integer(parser *P, const word *w, GString *digits)
{
    int base = w->s[1] == 'x' ? 16 : w->s[1] == 'o' ? 8 : 2;
    size_t i = 2;
    int64_t v;

    if (!scan_digits(w->s, w->n, &i, base, digits) || i != w->n)
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "integer", "");
    if (!accumulate(digits->str, base, false, &v))
        return word_fail(P, w, VMM_TOML_ERROR_LIMIT, "integer", "does not fit in 64 bits");
    toml_value *r = new_value(P, TOML_INTEGER, &w->at);
    r->u.i = v;
    return r;
}

static toml_value *float_of(parser *P, const word *w, const char *text)
{
    double d = g_ascii_strtod(text, NULL);

    if (isinf(d))
        return word_fail(P, w, VMM_TOML_ERROR_LIMIT, "float", "is out of range");
    toml_value *r = new_value(P, TOML_FLOAT, &w->at);
    r->u.f = d;
    return r;
}

/* dec-int [ frac ] [ exp ], or a 0x / 0o / 0b integer. */
static toml_value *number_value_in(parser *P, const word *w, GString *d)
{
    const char *s = w->s;
    size_t n = w->n, i = 0, int_start;
    bool neg = false, is_float = false;
    int64_t v;

    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
        return prefixed_integer(P, w, d);
    if (s[0] == '+' || s[0] == '-')
        neg = s[i++] == '-';
    if (i == 1 && n > 3 && s[1] == '0' && (s[2] == 'x' || s[2] == 'o' || s[2] == 'b'))
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number",
                         "hexadecimal, octal and binary integers take no sign");
    int_start = i;
    if (!scan_digits(s, n, &i, 10, d))
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number", "");
    if (s[int_start] == '0' && i - int_start > 1)
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number", "leading zeros are not allowed");
    if (i < n && s[i] == '.') {
        g_string_append_c(d, s[i++]);
        if (!scan_digits(s, n, &i, 10, d))
            return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number", "");
        is_float = true;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        g_string_append_c(d, s[i++]);
        if (i < n && (s[i] == '+' || s[i] == '-'))
            g_string_append_c(d, s[i++]);
        if (!scan_digits(s, n, &i, 10, d))
            return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number", "");
        is_float = true;
    }
    if (i != n)
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "number", "");
    if (is_float) {
        if (neg)
            g_string_prepend_c(d, '-');
        return float_of(P, w, d->str);
    }
    if (!accumulate(d->str, 10, neg, &v))
        return word_fail(P, w, VMM_TOML_ERROR_LIMIT, "integer", "does not fit in 64 bits");
    toml_value *r = new_value(P, TOML_INTEGER, &w->at);
    r->u.i = v;
    return r;
}

static toml_value *number_value(parser *P, const word *w)
{
    /* Words are never inside strings, so the string buffer is free. */
    g_string_truncate(P->buf, 0);
    return number_value_in(P, w, P->buf);
}

static bool digits_at(const char *s, size_t n, size_t i, size_t count)
{
    if (i + count > n)
        return false;
    for (size_t k = i; k < i + count; k++)
        if (!is_digit((unsigned char)s[k]))
            return false;
    return true;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* "HH:MM:SS[.frac]" at s[*i]; digits past nanoseconds are dropped. */
static bool scan_time(const char *s, size_t n, size_t *i, toml_datetime *dt)
{
    size_t j = *i;
    int k = 0;

    if (!digits_at(s, n, j, 2) || j + 2 >= n || s[j + 2] != ':' ||
        !digits_at(s, n, j + 3, 2) || j + 5 >= n || s[j + 5] != ':' ||
        !digits_at(s, n, j + 6, 2))
        return false;
    dt->hour = two_digits(s + j);
    dt->minute = two_digits(s + j + 3);
    dt->second = two_digits(s + j + 6);
    j += 8;
    if (j < n && s[j] == '.') {
        if (!digits_at(s, n, ++j, 1))
            return false;
        for (; j < n && is_digit((unsigned char)s[j]); j++)
            if (k < 9) {
                dt->nanosecond = dt->nanosecond * 10 + (s[j] - '0');
                k++;
            }
        for (; k < 9; k++)
            dt->nanosecond *= 10;
    }
    *i = j;
    return true;
}

/* "Z" or "+HH:MM" / "-HH:MM", which must end the word. */
static bool scan_offset(const char *s, size_t n, size_t i, toml_datetime *dt)
{
    dt->has_offset = true;
    if (s[i] == 'Z' || s[i] == 'z')
        return i + 1 == n;
    if ((s[i] != '+' && s[i] != '-') || n - i != 6 || !digits_at(s, n, i + 1, 2) ||
        s[i + 3] != ':' || !digits_at(s, n, i + 4, 2))
        return false;
    int h = two_digits(s + i + 1), m = two_digits(s + i + 4);
    if (h > 23 || m > 59)
        return false;
    dt->offset_minutes = (s[i] == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

/* The shape of the word decides the type; then each field is range-checked. */
static const char *scan_datetime(const char *s, size_t n, toml_type *type, toml_datetime *dt)
{
    size_t i = 0;
    bool has_date = false;

    memset(dt, 0, sizeof *dt);
    if (digits_at(s, n, 0, 4) && n > 4 && s[4] == '-') {
        if (n < 10 || !digits_at(s, n, 5, 2) || s[7] != '-' || !digits_at(s, n, 8, 2))
            return "";
        dt->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + two_digits(s + 2);
        dt->month = two_digits(s + 5);
        dt->day = two_digits(s + 8);
        if (dt->month < 1 || dt->month > 12)
            return "month must be 01 to 12";
        if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
            return "no such day in that month";
        has_date = true;
        i = 10;
        *type = TOML_DATE_LOCAL;
        if (i == n)
            return NULL;
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return "";
        i++;
    }
    if (!scan_time(s, n, &i, dt))
        return "";
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return "no such time of day";
    if (i == n) {
        *type = has_date ? TOML_DATETIME_LOCAL : TOML_TIME_LOCAL;
        return NULL;
    }
    if (!has_date || !scan_offset(s, n, i, dt))
        return "";
    *type = TOML_DATETIME;
    return NULL;
}

static toml_value *datetime_value(parser *P, const word *w)
{
    toml_datetime dt;
    toml_type type;
    const char *why = scan_datetime(w->s, w->n, &type, &dt);

    if (why)
        return word_fail(P, w, VMM_TOML_ERROR_SYNTAX, "date-time", why);
    toml_value *v = new_value(P, type, &w->at);
    v->u.dt = dt;
    return v;
}

static bool word_is(const word *w, const char *s)
{
    return w->n == strlen(s) && memcmp(w->s, s, w->n) == 0;
}

/* Could the word be meant as a number? Then number errors apply; if not,
 * it is most likely a string someone forgot to quote. */
static bool looks_numeric(const word *w)
{
    size_t i = (w->s[0] == '+' || w->s[0] == '-') ? 1 : 0;

    if (i >= w->n || !is_digit((unsigned char)w->s[i]))
        return false;
    /* 0x, 0o, 0b: a sign in front is a mistake in a number, so counts. */
    if (w->n >= i + 2 && w->s[i] == '0' && w->s[i + 1] && strchr("xob", w->s[i + 1])) {
        for (i += 2; i < w->n; i++)
            if (digit_value((unsigned char)w->s[i]) < 0 && w->s[i] != '_')
                return false;
        return true;
    }
    for (; i < w->n; i++)
        if (!strchr("0123456789_+-.eE", w->s[i]))
            return false;
    return true;
}

static bool looks_like_datetime(const word *w)
{
    return (digits_at(w->s, w->n, 0, 4) && w->n > 4 && w->s[4] == '-') ||
           (digits_at(w->s, w->n, 0, 2) && w->n > 2 && w->s[2] == ':');
}

static toml_value *special_value(parser *P, const word *w)
{
    static const char *const floats[] = { "inf", "+inf", "-inf", "nan", "+nan", "-nan" };
    toml_value *v;

    if (word_is(w, "true") || word_is(w, "false")) {
        v = new_value(P, TOML_BOOL, &w->at);
        v->u.b = w->s[0] == 't';
        return v;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(floats); i++) {
        if (word_is(w, floats[i])) {
            v = new_value(P, TOML_FLOAT, &w->at);
            v->u.f = strstr(floats[i], "inf") ? INFINITY : NAN;
            if (w->s[0] == '-')
                v->u.f = -v->u.f;
            return v;
        }
    }
    return NULL;
}

/* The length of the unquoted value at the cursor. A date, a space and a
 * time are one value (RFC 3339 allows the space). */
static size_t word_length(const parser *P)
{
    const char *p = P->c.p;
    size_t avail = P->end - p, n = 0;

    while (n < avail && is_word_char((unsigned char)p[n]))
        n++;
    if (n == 10 && avail > 14 && digits_at(p, avail, 0, 4) && p[4] == '-' && p[7] == '-' &&
        p[10] == ' ' && digits_at(p, avail, 11, 2) && p[13] == ':') {
        for (n = 11; n < avail && is_word_char((unsigned char)p[n]); n++)
            ;
    }
    return n;
}

static toml_value *word_value(parser *P)
{
    word w = { P->c.p, word_length(P), P->c };
    toml_value *v;

    adv_n(P, w.n);
    if ((v = special_value(P, &w)))
        return v;
    if (looks_like_datetime(&w))
        return datetime_value(P, &w);
    if (looks_numeric(&w))
        return number_value(P, &w);
    if ((w.n == 4 && g_ascii_strncasecmp(w.s, "true", 4) == 0) ||
        (w.n == 5 && g_ascii_strncasecmp(w.s, "false", 5) == 0))
        return word_fail(P, &w, VMM_TOML_ERROR_SYNTAX, "value", "booleans are written true and false");
    return word_fail(P, &w, VMM_TOML_ERROR_SYNTAX, "value", "strings must be in quotes");
}

/* ------------------------------------------------------------------ */
/* Arrays, inline tables, key = value                                  */

static toml_value *parse_value(parser *P, unsigned depth, const char *expected);

/* Blanks, line ends and comments may come anywhere between elements. */
static bool skip_array_space(parser *P, const cursor *open)
{
    for (;;) {
        skip_ws(P);
        if (peek(P) == '#') {
            if (!skip_comment(P))
                return false;
        } else if (at_newline(P)) {
            skip_newline(P);
        } else if (peek(P) == -1) {
            return fail_at(P, open, "unterminated array (missing \"]\")");
        } else {
            return true;
        }
    }
}

static toml_value *parse_array(parser *P, unsigned depth)
{
    cursor open = P->c;
    toml_value *a = new_container(P, TOML_ARRAY, ORIGIN_STATIC, &open, depth);
    char found[64];

    if (!a)
        return NULL;
    adv(P);
    for (;;) {
        if (!skip_array_space(P, &open))
            return NULL;
        if (peek(P) == ']')
            break;
        toml_value *v = parse_value(P, depth + 1, "expected a value or \"]\" in array");
        if (!v)
            return NULL;
        push_item(a, v);
        if (!skip_array_space(P, &open))
            return NULL;
        if (peek(P) == ']')
            break;
        if (peek(P) != ',') {
            describe(P, found, sizeof found);
            fail(P, "expected \",\" or \"]\" after array element, found %s", found);
            return NULL;
        }
        adv(P);
    }
    adv(P);
    return a;
}

static bool parse_keyval(parser *P, toml_value *base);

static bool inline_space(parser *P, const cursor *open)
{
    skip_ws(P);
    if (peek(P) == -1)
        return fail_at(P, open, "unterminated inline table (missing \"}\")");
    if (at_newline(P))
        return fail(P, "newline in inline table (an inline table must be on one line)");
    return true;
}

static toml_value *parse_inline_table(parser *P, unsigned depth)
{
    cursor open = P->c;
    toml_value *t = new_container(P, TOML_TABLE, ORIGIN_INLINE, &open, depth);
    char found[64];

    if (!t)
        return NULL;
    adv(P);
    skip_ws(P);
    if (peek(P) == '}') {
        adv(P);
        return t;
    }
    for (;;) {
        if (!inline_space(P, &open) || !parse_keyval(P, t) || !inline_space(P, &open))
            return NULL;
        if (peek(P) == '}')
            break;
        if (peek(P) != ',') {
            describe(P, found, sizeof found);
            fail(P, "expected \",\" or \"}\" in inline table, found %s", found);
            return NULL;
        }
        cursor comma = P->c;
        adv(P);
        skip_ws(P);
        if (peek(P) == '}') {
            fail_at(P, &comma, "trailing comma in inline table");
            return NULL;
        }
    }
    adv(P);
    return t;
}

static toml_value *parse_value(parser *P, unsigned depth, const char *expected)
{
    char found[64];
    int c = peek(P);

    if (c == '"' || c == '\'')
        return string_value(P);
    if (c == '[')
        return parse_array(P, depth);
    if (c == '{')
        return parse_inline_table(P, depth);
    if (is_word_char(c))
        return word_value(P);
    if (c == -1 || c == '#' || at_newline(P)) {
        fail(P, "%s", expected);
    } else {
        describe(P, found, sizeof found);
        fail(P, "%s, found %s", expected, found);
    }
    return NULL;
}

/* Why the dotted key being read cannot go through @v (its segment @i). */
static bool dotted_conflict(parser *P, const toml_value *v, size_t i)
{
    char *full = key_display(P, P->segs->len), *part = key_display(P, i + 1);

    if (v->type == TOML_TABLE && v->origin == ORIGIN_INLINE)
        fail_at(P, &P->key_start, "cannot set %s: %s is an inline table, which cannot be extended",
                full, part);
    else if (v->type == TOML_TABLE) {
        char *path = toml_key_path(v);
        fail_at(P, &P->key_start, "cannot set %s with a dotted key: table [%s] was created "
                "by a table header", full, path);
        g_free(path);
    }
    else
        fail_at(P, &P->key_start, "cannot set %s: %s is already %s", full, part,
                type_article(v->type));
    g_free(full);
    g_free(part);
    return false;
}

/* Walks, creating as needed, the tables a dotted key names before its
 * last segment. Only tables made by dotted keys may be entered. */
static toml_value *resolve_dotted(parser *P, toml_value *t)
{
    for (size_t i = 0; i + 1 < P->segs->len; i++) {
        size_t len;
        const char *key = seg_key(P, i, &len);
        toml_value *child = table_find(t, key, len);

        if (!child) {
            child = new_container(P, TOML_TABLE, ORIGIN_DOTTED, &P->key_start, t->depth + 1u);
            if (!child)
                return NULL;
            set_key(child, key, len);
            table_add(t, child);
        } else if (child->type != TOML_TABLE || child->origin != ORIGIN_DOTTED) {
            dotted_conflict(P, child, i);
            return NULL;
        }
        t = child;
    }
    return t;
}

static bool parse_keyval(parser *P, toml_value *base)
{
    char found[64];

    if (!parse_key(P, ""))
        return false;
    cursor key_at = P->key_start;
    if (peek(P) != '=') {
        char *name = key_display(P, P->segs->len);
        describe(P, found, sizeof found);
        fail(P, "expected \"=\" after key %s, found %s", name, found);
        g_free(name);
        return false;
    }
    adv(P);
    skip_ws(P);
    toml_value *parent = resolve_dotted(P, base);
    if (!parent)
        return false;
    size_t len;
    const char *k = seg_key(P, P->segs->len - 1, &len);
    if (table_find(parent, k, len)) {
        char *name = key_display(P, P->segs->len);
        fail_at(P, &key_at, "duplicate key %s", name);
        g_free(name);
        return false;
    }
    /* The value may hold keys of its own, which reuse P->keys. */
    char *key = g_malloc(len + 1);
    memcpy(key, k, len);
    key[len] = '\0';
    toml_value *v = parse_value(P, parent->depth + 1u, "expected a value after \"=\"");
    if (!v) {
        g_free(key);
        return false;
    }
    v->key = key;
    v->key_len = len;
    v->line = key_at.line;
    v->col = key_at.col;
    table_add(parent, v);
    return true;
}

/* ------------------------------------------------------------------ */
/* [table] and [[array of tables]] headers                             */

static bool header_conflict(parser *P, const cursor *open, bool aot, const toml_value *v,
                            size_t nsegs)
{
    char *name = header_display(P), *part = key_display(P, nsegs);
    const char *l = aot ? "[[" : "[", *r = aot ? "]]" : "]";
    const char *kind = aot ? "array of tables" : "table";

    if (v->type == TOML_TABLE && v->origin == ORIGIN_INLINE)
        fail_at(P, open, "cannot define %s %s%s%s: %s is an inline table, which cannot be "
                "extended", kind, l, name, r, part);
    else
        fail_at(P, open, "cannot define %s %s%s%s: %s is already %s", kind, l, name, r, part,
                type_article(v->type));
    g_free(name);
    g_free(part);
    return false;
}

/* The table the header's last segment goes in: intermediate tables are
 * made implicitly, and an array of tables stands for its last element. */
static toml_value *header_parent(parser *P, const cursor *open, bool aot)
{
    toml_value *t = P->root;

    for (size_t i = 0; i + 1 < P->segs->len; i++) {
        const struct seg *s = &g_array_index(P->segs, struct seg, i);
        size_t len;
        const char *key = seg_key(P, i, &len);
        toml_value *child = table_find(t, key, len);

        if (!child) {
            cursor at = { NULL, s->line, s->col };
            child = new_container(P, TOML_TABLE, ORIGIN_IMPLICIT, &at, t->depth + 1u);
            if (!child)
                return NULL;
            set_key(child, key, len);
            table_add(t, child);
        } else if (child->type == TOML_ARRAY && child->origin == ORIGIN_AOT) {
            child = child->u.c.items[child->u.c.len - 1];
        } else if (child->type != TOML_TABLE || child->origin == ORIGIN_INLINE) {
            header_conflict(P, open, aot, child, i + 1);
            return NULL;
        }
        t = child;
    }
    return t;
}

static bool table_redefined(parser *P, const cursor *open, const toml_value *v)
{
    char *name = header_display(P);

    if (v->type == TOML_TABLE && v->origin == ORIGIN_HEADER)
        fail_at(P, open, "table [%s] defined twice", name);
    else if (v->type == TOML_TABLE && v->origin == ORIGIN_DOTTED)
        fail_at(P, open, "table [%s] defined twice (first by dotted keys at %u:%u)", name,
                v->line, v->col);
    else if (v->type == TOML_TABLE)
        fail_at(P, open, "table [%s] defined twice (first as an inline table at %u:%u)", name,
                v->line, v->col);
    else if (v->type == TOML_ARRAY && v->origin == ORIGIN_AOT)
        fail_at(P, open, "table [%s] conflicts with array of tables [[%s]]", name, name);
    else
        header_conflict(P, open, false, v, P->segs->len);
    g_free(name);
    return false;
}

static bool open_table(parser *P, const cursor *open)
{
    toml_value *parent = header_parent(P, open, false);
    size_t len;

    if (!parent)
        return false;
    const char *key = seg_key(P, P->segs->len - 1, &len);
    toml_value *t = table_find(parent, key, len);
    if (!t) {
        t = new_container(P, TOML_TABLE, ORIGIN_HEADER, open, parent->depth + 1u);
        if (!t)
            return false;
        set_key(t, key, len);
        table_add(parent, t);
    } else if (t->type == TOML_TABLE && t->origin == ORIGIN_IMPLICIT) {
        /* [a] after [a.b]: a is defined now, once. */
        t->origin = ORIGIN_HEADER;
        t->line = open->line;
        t->col = open->col;
    } else {
        return table_redefined(P, open, t);
    }
    P->section = t;
    return true;
}

static bool open_array_table(parser *P, const cursor *open)
{
    toml_value *parent = header_parent(P, open, true);
    size_t len;

    if (!parent)
        return false;
    const char *key = seg_key(P, P->segs->len - 1, &len);
    toml_value *a = table_find(parent, key, len);
    if (!a) {
        a = new_container(P, TOML_ARRAY, ORIGIN_AOT, open, parent->depth + 1u);
        if (!a)
            return false;
        set_key(a, key, len);
        table_add(parent, a);
    } else if (a->type == TOML_TABLE && a->origin != ORIGIN_INLINE) {
        char *name = header_display(P);
        fail_at(P, open, "array of tables [[%s]] conflicts with table [%s]", name, name);
        g_free(name);
        return false;
    } else if (a->type != TOML_ARRAY || a->origin != ORIGIN_AOT) {
        return header_conflict(P, open, true, a, P->segs->len);
    }
    toml_value *t = new_container(P, TOML_TABLE, ORIGIN_HEADER, open, a->depth + 1u);
    if (!t)
        return false;
    push_item(a, t);
    P->section = t;
    return true;
}

static bool parse_header(parser *P)
{
    cursor open = P->c;
    bool aot = peek_at(P, 1) == '[';
    const char *close = aot ? "]]" : "]";
    char found[64];

    adv_n(P, aot ? 2 : 1);
    if (!parse_key(P, " in table header"))
        return false;
    if (peek(P) != ']' || (aot && peek_at(P, 1) != ']')) {
        if (peek(P) == -1 || peek(P) == '#' || at_newline(P) || peek(P) == ']')
            return fail(P, "missing \"%s\" at end of table header", close);
        describe(P, found, sizeof found);
        return fail(P, "expected \"%s\" at end of table header, found %s", close, found);
    }
    adv_n(P, aot ? 2 : 1);
    return aot ? open_array_table(P, &open) : open_table(P, &open);
}

static bool parse_document(parser *P)
{
    /* A UTF-8 byte order mark is not part of the text. */
    if (P->end - P->c.p >= 3 && memcmp(P->c.p, "\xEF\xBB\xBF", 3) == 0)
        P->c.p += 3;
    for (;;) {
        bool ok;

        skip_ws(P);
        int c = peek(P);
        if (c == -1)
            return true;
        if (c == '[')
            ok = parse_header(P) && end_of_line(P, "table header");
        else if (c == '#' || c == '\n' || c == '\r')
            ok = end_of_line(P, NULL);
        else
            ok = parse_keyval(P, P->section) && end_of_line(P, "value");
        if (!ok)
            return false;
    }
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

static toml_value *parse_text(const char *text, size_t len, const char *source_name,
                              bool redact, GError **error)
{
    g_return_val_if_fail(text != NULL || len == 0, NULL);

    toml_doc *doc = g_new0(toml_doc, 1);
    doc->source = g_strdup(source_name ? source_name : "<input>");
    doc->hash_key[0] = (uint64_t)g_random_int() << 32 | g_random_int();
    doc->hash_key[1] = (uint64_t)g_random_int() << 32 | g_random_int();

    parser P = { 0 };
    P.c.p = text ? text : "";
    P.c.line = 1;
    P.c.col = 1;
    P.end = P.c.p + len;
    P.doc = doc;
    P.root = new_value(&P, TOML_TABLE, &P.c);
    P.root->origin = ORIGIN_ROOT;
    P.section = P.root;
    P.buf = g_string_new(NULL);
    P.keys = g_string_new(NULL);
    P.segs = g_array_new(FALSE, FALSE, sizeof(struct seg));
    P.redact = redact;

    bool ok = parse_document(&P);

    g_string_free(P.buf, TRUE);
    g_string_free(P.keys, TRUE);
    g_array_unref(P.segs);
    if (!ok) {
        g_propagate_error(error, P.error);
        doc_free(doc);
        return NULL;
    }
    return P.root;
}

toml_value *toml_parse(const char *text, size_t len, const char *source_name, GError **error)
{
    return parse_text(text, len, source_name, false, error);
}

/* Reads @path whole into @out; false with errno set on failure, EFBIG if
 * it holds more than TOML_MAX_FILE_SIZE, EINVAL if it is not a regular
 * file. Opened without blocking: a FIFO or a device named as a config
 * must not hang the caller (under vmm serve, every VM's main loop). */
static bool read_all(const char *path, GString *out)
{
    char buf[65536];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0)
        return false;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int saved = fstat(fd, &st) < 0 ? errno : EINVAL;
        close(fd);
        errno = saved;
        return false;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && out->len + n > TOML_MAX_FILE_SIZE) {
            n = -1;
            errno = EFBIG;
        }
        if (n <= 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return n == 0;
        }
        g_string_append_len(out, buf, n);
    }
}

toml_value *toml_parse_file(const char *path, GError **error)
{
    GString *text = g_string_new(NULL);
    toml_value *root = NULL;

    g_return_val_if_fail(path != NULL, NULL);
    if (read_all(path, text))
        root = parse_text(text->str, text->len, path, !g_str_has_suffix(path, ".toml"), error);
    else if (errno == EFBIG)
        g_set_error(error, VMM_TOML_ERROR, VMM_TOML_ERROR_LIMIT,
                    "%s: larger than %u MiB: not a configuration file", path,
                    TOML_MAX_FILE_SIZE >> 20);
    else if (errno == EINVAL)
        g_set_error(error, VMM_TOML_ERROR, VMM_TOML_ERROR_IO,
                    "%s: not a regular file (a config must be one)", path);
    else
        g_set_error(error, VMM_TOML_ERROR, VMM_TOML_ERROR_IO, "%s: %s", path, g_strerror(errno));
    g_string_free(text, TRUE);
    return root;
}

void toml_free(toml_value *root)
{
    if (!root)
        return;
    g_return_if_fail(root->parent == NULL);
    doc_free(root->doc);
}

toml_type toml_type_of(const toml_value *v)
{
    g_return_val_if_fail(v != NULL, TOML_TABLE);
    return v->type;
}

const char *toml_type_name(toml_type t)
{
    /* The article-less half of type_article(). */
    const char *s = type_article(t);
    return strchr(s, ' ') + 1;
}

void toml_pos(const toml_value *v, unsigned *line, unsigned *column)
{
    g_return_if_fail(v != NULL);
    if (line)
        *line = v->line;
    if (column)
        *column = v->col;
}

const char *toml_source_name(const toml_value *v)
{
    g_return_val_if_fail(v != NULL, NULL);
    return v->doc->source;
}

char *toml_key_path(const toml_value *v)
{
    GPtrArray *chain = g_ptr_array_new();
    GString *s = g_string_new(NULL);

    g_return_val_if_fail(v != NULL, NULL);
    for (; v->parent; v = v->parent)
        g_ptr_array_add(chain, (gpointer)v);
    for (guint i = chain->len; i-- > 0;) {
        const toml_value *c = chain->pdata[i];
        if (c->parent->type == TOML_ARRAY) {
            size_t idx = 0;
            while (c->parent->u.c.items[idx] != c)
                idx++;
            g_string_append_printf(s, "[%zu]", idx);
        } else {
            if (s->len)
                g_string_append_c(s, '.');
            append_key(s, c->key, c->key_len);
        }
    }
    g_ptr_array_free(chain, TRUE);
    return g_string_free(s, FALSE);
}

size_t toml_table_size(const toml_value *t)
{
    g_return_val_if_fail(t != NULL && t->type == TOML_TABLE, 0);
    return t->u.c.len;
}

const char *toml_table_key(const toml_value *t, size_t i)
{
    g_return_val_if_fail(t != NULL && t->type == TOML_TABLE && i < t->u.c.len, NULL);
    return t->u.c.items[i]->key;
}

size_t toml_table_key_len(const toml_value *t, size_t i)
{
    g_return_val_if_fail(t != NULL && t->type == TOML_TABLE && i < t->u.c.len, 0);
    return t->u.c.items[i]->key_len;
}

toml_value *toml_table_value(const toml_value *t, size_t i)
{
    g_return_val_if_fail(t != NULL && t->type == TOML_TABLE && i < t->u.c.len, NULL);
    return t->u.c.items[i];
}

toml_value *toml_table_get(const toml_value *t, const char *key)
{
    g_return_val_if_fail(t != NULL && t->type == TOML_TABLE && key != NULL, NULL);
    return table_find(t, key, strlen(key));
}

size_t toml_array_len(const toml_value *a)
{
    g_return_val_if_fail(a != NULL && a->type == TOML_ARRAY, 0);
    return a->u.c.len;
}

toml_value *toml_array_get(const toml_value *a, size_t i)
{
    g_return_val_if_fail(a != NULL && a->type == TOML_ARRAY, NULL);
    return i < a->u.c.len ? a->u.c.items[i] : NULL;
}

const char *toml_string(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type == TOML_STRING, NULL);
    return v->u.str.ptr;
}

size_t toml_string_len(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type == TOML_STRING, 0);
    return v->u.str.len;
}

int64_t toml_integer(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type == TOML_INTEGER, 0);
    return v->u.i;
}

double toml_float(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type == TOML_FLOAT, 0);
    return v->u.f;
}

bool toml_bool(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type == TOML_BOOL, false);
    return v->u.b;
}

const toml_datetime *toml_datetime_of(const toml_value *v)
{
    g_return_val_if_fail(v != NULL && v->type >= TOML_DATETIME, NULL);
    return &v->u.dt;
}

/* Follows @path; absent segments give NULL, as does a non-table on the way
 * (reported in @bad when asked for). */
static const toml_value *walk(const toml_value *t, const char *path, const toml_value **bad)
{
    if (bad)
        *bad = NULL;
    if (!*path)
        return t;
    for (;;) {
        if (t->type != TOML_TABLE) {
            if (bad)
                *bad = t;
            return NULL;
        }
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const toml_value *v = table_find(t, path, len);
        if (!v || !dot)
            return v;
        t = v;
        path = dot + 1;
    }
}

toml_value *toml_lookup(const toml_value *root, const char *path)
{
    g_return_val_if_fail(root != NULL && path != NULL, NULL);
    return (toml_value *)walk(root, path, NULL);
}

void toml_set_error(GError **error, const toml_value *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (at)
        g_set_error(error, VMM_TOML_ERROR, VMM_TOML_ERROR_TYPE, "%s:%u:%u: %s",
                    at->doc->source, at->line, at->col, msg);
    else
        g_set_error_literal(error, VMM_TOML_ERROR, VMM_TOML_ERROR_TYPE, msg);
    g_free(msg);
}

static void type_error(GError **error, const toml_value *v, toml_type want)
{
    char *path = toml_key_path(v);
    toml_set_error(error, v, "%s: expected %s, found %s", *path ? path : "(document)",
                   type_article(want), type_article(v->type));
    g_free(path);
}

/* The value for a getter: *out NULL if absent; FALSE after a type error. */
static gboolean get_typed(const toml_value *root, const char *path, toml_type want,
                          const toml_value **out, GError **error)
{
    const toml_value *bad;

    g_return_val_if_fail(root != NULL && path != NULL, FALSE);
    *out = walk(root, path, &bad);
    if (bad) {
        type_error(error, bad, TOML_TABLE);
        return FALSE;
    }
    if (*out && (*out)->type != want) {
        type_error(error, *out, want);
        *out = NULL;
        return FALSE;
    }
    return TRUE;
}

gboolean toml_string_has_nul(const toml_value *v)
{
    return strlen(toml_string(v)) != toml_string_len(v);
}

gboolean toml_get_string(const toml_value *root, const char *path, const char *def,
                         const char **out, GError **error)
{
    const toml_value *v;

    *out = def;
    if (!get_typed(root, path, TOML_STRING, &v, error))
        return FALSE;
    /* A C string would end at the NUL: "hello\u0000x" must not pass as
     * "hello" (a name, a path). */
    if (v && strlen(v->u.str.ptr) != v->u.str.len) {
        g_autofree char *key = toml_key_path(v);

        toml_set_error(error, v, "%s: a string holding NUL (\\u0000) is not allowed", key);
        return FALSE;
    }
    if (v)
        *out = v->u.str.ptr;
    return TRUE;
}

gboolean toml_get_int(const toml_value *root, const char *path, int64_t def, int64_t *out,
                      GError **error)
{
    const toml_value *v;

    *out = def;
    if (!get_typed(root, path, TOML_INTEGER, &v, error))
        return FALSE;
    if (v)
        *out = v->u.i;
    return TRUE;
}

gboolean toml_get_bool(const toml_value *root, const char *path, bool def, bool *out,
                       GError **error)
{
    const toml_value *v;

    *out = def;
    if (!get_typed(root, path, TOML_BOOL, &v, error))
        return FALSE;
    if (v)
        *out = v->u.b;
    return TRUE;
}

gboolean toml_get_table(const toml_value *root, const char *path, const toml_value **out,
                        GError **error)
{
    return get_typed(root, path, TOML_TABLE, out, error);
}

gboolean toml_get_array(const toml_value *root, const char *path, const toml_value **out,
                        GError **error)
{
    return get_typed(root, path, TOML_ARRAY, out, error);
}
