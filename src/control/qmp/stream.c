/*
 * Cuts a byte stream into JSON texts. QMP clients may send requests back to
 * back with no separator, split across reads or several in one, so texts
 * are found by structure, not by line: a small scanner that knows strings,
 * escapes and nesting, and hands each complete top-level value to the
 * parser. It never judges the JSON itself; json-glib does that.
 */
#include "vmm/qmp.h"

void qmp_splitter_init(struct qmp_splitter *s)
{
    s->buf = g_string_new(NULL);
    s->depth = 0;
    s->in_string = s->escape = s->in_scalar = false;
}

void qmp_splitter_clear(struct qmp_splitter *s)
{
    if (s->buf)
        g_string_free(s->buf, TRUE);
    s->buf = NULL;
}

static void emit_text(struct qmp_splitter *s, qmp_text_fn emit, void *opaque)
{
    emit(s->buf->str, s->buf->len, opaque);
    g_string_truncate(s->buf, 0);
    s->in_string = s->escape = s->in_scalar = false;
    s->depth = 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Characters that end a top-level scalar (and start something else). */
static bool ends_scalar(char c)
{
    return is_space(c) || c == '{' || c == '[' || c == '}' || c == ']' || c == '"';
}

/* Emits at most one text: returns how many bytes it took (all of @len,
 * or up to the end of the text it emitted), or -1 past the limits. */
ptrdiff_t qmp_splitter_feed_one(struct qmp_splitter *s, const char *data, size_t len,
                                qmp_text_fn emit, void *opaque)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (s->in_scalar) {
            if (!ends_scalar(c)) {
                g_string_append_c(s->buf, c);
                goto check_size;
            }
            emit_text(s, emit, opaque);
            return i; /* c starts what comes next */
        }
        if (s->depth == 0 && !s->in_string) {
            /* Between texts: whitespace separates, anything else starts one. */
            if (is_space(c))
                continue;
            g_string_append_c(s->buf, c);
            if (c == '{' || c == '[')
                s->depth = 1;
            else if (c == '"')
                s->in_string = true;
            else if (c == '}' || c == ']') {
                emit_text(s, emit, opaque); /* a stray closer: a text of its own */
                return i + 1;
            } else
                s->in_scalar = true;
            continue;
        }

        g_string_append_c(s->buf, c);
        if (s->in_string) {
            if (s->escape)
                s->escape = false;
            else if (c == '\\')
                s->escape = true;
            else if (c == '"') {
                s->in_string = false;
                if (s->depth == 0) { /* a top-level string */
                    emit_text(s, emit, opaque);
                    return i + 1;
                }
            }
        } else if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            if (++s->depth > QMP_MAX_DEPTH)
                return -1;
        } else if (c == '}' || c == ']') {
            /* Mismatched pairs are the parser's business, not ours. */
            if (--s->depth == 0) {
                emit_text(s, emit, opaque);
                return i + 1;
            }
        }
check_size:
        if (s->buf->len > QMP_MAX_MESSAGE)
            return -1;
    }
    return len;
}

bool qmp_splitter_feed(struct qmp_splitter *s, const char *data, size_t len,
                       qmp_text_fn emit, void *opaque)
{
    while (len) {
        ptrdiff_t n = qmp_splitter_feed_one(s, data, len, emit, opaque);

        if (n < 0)
            return false;
        data += n;
        len -= n;
    }
    return true;
}
