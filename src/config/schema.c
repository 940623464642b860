/*
 * The one reader of configuration: walks a table of keys (vmm/schema.h)
 * over a TOML document or a JSON object, so both forms get the same
 * checks and the same messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/schema.h"

struct cfg_doc {
    bool json;
    const char *base;        /* JSON: the path of the root ("config", "") */
    GPtrArray *strings;      /* paths made for nodes: freed with the doc */
};

static const char *doc_keep(const struct cfg_doc *doc, char *s)
{
    g_ptr_array_add(doc->strings, s);
    return s;
}

cfg_vtype cfg_node_type(const struct cfg_node *n)
{
    if (n->toml) {
        switch (toml_type_of(n->toml)) {
        case TOML_TABLE: return CFG_V_TABLE;
        case TOML_ARRAY: return CFG_V_ARRAY;
        case TOML_STRING: return CFG_V_STRING;
        case TOML_INTEGER: return CFG_V_INTEGER;
        case TOML_BOOL: return CFG_V_BOOL;
        default: return CFG_V_OTHER;
        }
    }
    if (JSON_NODE_HOLDS_OBJECT(n->json))
        return CFG_V_TABLE;
    if (JSON_NODE_HOLDS_ARRAY(n->json))
        return CFG_V_ARRAY;
    if (JSON_NODE_HOLDS_VALUE(n->json)) {
        GType t = json_node_get_value_type(n->json);

        if (t == G_TYPE_STRING)
            return CFG_V_STRING;
        if (t == G_TYPE_INT64)
            return CFG_V_INTEGER;
        if (t == G_TYPE_BOOLEAN)
            return CFG_V_BOOL;
    }
    return CFG_V_OTHER;
}

const char *cfg_node_type_name(const struct cfg_node *n)
{
    static const char *const toml_names[] = {
        [TOML_TABLE] = "a table", [TOML_ARRAY] = "an array", [TOML_STRING] = "a string",
        [TOML_INTEGER] = "an integer", [TOML_FLOAT] = "a float", [TOML_BOOL] = "a boolean",
        [TOML_DATETIME] = "an offset date-time", [TOML_DATETIME_LOCAL] = "a local date-time",
        [TOML_DATE_LOCAL] = "a local date", [TOML_TIME_LOCAL] = "a local time",
    };

    if (n->toml)
        return toml_names[toml_type_of(n->toml)];
    switch (cfg_node_type(n)) {
    case CFG_V_TABLE: return "an object";
    case CFG_V_ARRAY: return "an array";
    case CFG_V_STRING: return "a string";
    case CFG_V_INTEGER: return "an integer";
    case CFG_V_BOOL: return "a boolean";
    default: return JSON_NODE_HOLDS_NULL(n->json) ? "null" : "a number";
    }
}

const char *cfg_node_path(const struct cfg_node *n)
{
    if (n->json)
        return n->path;
    return doc_keep(n->doc, toml_key_path(n->toml));
}

size_t cfg_node_len(const struct cfg_node *n)
{
    if (n->toml)
        return toml_type_of(n->toml) == TOML_TABLE ? toml_table_size(n->toml)
                                                   : toml_array_len(n->toml);
    if (JSON_NODE_HOLDS_OBJECT(n->json))
        return json_object_get_size(json_node_get_object(n->json));
    return json_array_get_length(json_node_get_array(n->json));
}

/* JSON members in document order (json-glib keeps it). */
static GList *json_members(const struct cfg_node *n)
{
    return json_object_get_members(json_node_get_object(n->json));
}

const char *cfg_node_key(const struct cfg_node *n, size_t i)
{
    g_autoptr(GList) members = NULL;

    if (n->toml)
        return toml_table_key(n->toml, i);
    members = json_members(n);
    return g_list_nth_data(members, i);
}

static const char *json_child_path(const struct cfg_node *n, const char *key, size_t i)
{
    const char *p = n->path;

    if (key) {
        /* Paths reach messages: a key's control characters are escaped. */
        g_autofree char *k = g_strescape(key, NULL);

        return doc_keep(n->doc, *p ? g_strconcat(p, ".", k, NULL) : g_strdup(k));
    }
    return doc_keep(n->doc, g_strdup_printf("%s[%zu]", p, i));
}

struct cfg_node cfg_node_child(const struct cfg_node *n, size_t i)
{
    struct cfg_node c = { .doc = n->doc };

    if (n->toml) {
        c.toml = toml_type_of(n->toml) == TOML_TABLE ? toml_table_value(n->toml, i)
                                                     : toml_array_get(n->toml, i);
    } else if (JSON_NODE_HOLDS_OBJECT(n->json)) {
        const char *key = cfg_node_key(n, i);

        c.json = json_object_get_member(json_node_get_object(n->json), key);
        c.path = json_child_path(n, key, i);
    } else {
        c.json = json_array_get_element(json_node_get_array(n->json), i);
        c.path = json_child_path(n, NULL, i);
    }
    return c;
}

bool cfg_node_lookup(const struct cfg_node *n, const char *path, struct cfg_node *out)
{
    g_auto(GStrv) segs = g_strsplit(path, ".", -1);
    struct cfg_node cur = *n;

    for (size_t s = 0; segs[s]; s++) {
        size_t i = 0, len;

        if (cfg_node_type(&cur) != CFG_V_TABLE)
            return false;
        len = cfg_node_len(&cur);
        while (i < len && strcmp(cfg_node_key(&cur, i), segs[s]))
            i++;
        if (i == len)
            return false;
        cur = cfg_node_child(&cur, i);
    }
    *out = cur;
    return true;
}

const char *cfg_node_string(const struct cfg_node *n)
{
    if (cfg_node_type(n) != CFG_V_STRING)
        return NULL;
    if (n->toml)
        return toml_string_has_nul(n->toml) ? NULL : toml_string(n->toml);
    return json_node_get_string(n->json);
}

static int64_t node_int(const struct cfg_node *n)
{
    return n->toml ? toml_integer(n->toml) : json_node_get_int(n->json);
}

static bool node_bool(const struct cfg_node *n)
{
    return n->toml ? toml_bool(n->toml) : json_node_get_boolean(n->json);
}

char *cfg_node_where(const struct cfg_node *n, bool with_key)
{
    unsigned line, col;

    if (n->json)
        return g_strdup(with_key ? n->path : n->doc->base);
    toml_pos(n->toml, &line, &col);
    if (!with_key)
        return g_strdup_printf("%s:%u:%u", toml_source_name(n->toml), line, col);
    return g_strdup_printf("%s:%u:%u: %s", toml_source_name(n->toml), line, col,
                           cfg_node_path(n));
}

char *cfg_node_quote(const struct cfg_node *n, const char *s)
{
    g_autofree char *cut = g_strndup(s, 80);
    g_autofree char *esc = g_strescape(cut, NULL);
    char q = n->json ? '\'' : '"';

    return g_strdup_printf("%c%s%c", q, esc, q);
}

void cfg_error(GError **error, const struct cfg_node *n, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (n->toml)
        toml_set_error(error, n->toml, "%s", msg);
    else
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s", msg);
}

/* Distance between two short keys, to suggest the key a typo meant. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned row[64];

    if (la >= G_N_ELEMENTS(row) || lb >= G_N_ELEMENTS(row))
        return UINT_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];

            row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
            diag = up;
        }
    }
    return row[lb];
}

/* A table as its form names it: TOML "[vm]", "[[image]]"; JSON 'config.vm'. */
static char *section_name(const struct cfg_node *t)
{
    const char *path = cfg_node_path(t);
    size_t len = strlen(path);

    if (t->json)
        return cfg_node_quote(t, path);
    if (len && path[len - 1] == ']') /* an element of an array of tables */
        return g_strdup_printf("[[%.*s]]", (int)(strrchr(path, '[') - path), path);
    return g_strdup_printf("[%s]", path);
}

/* "a", "b" or "c" in the node's quotes, joined by @sep. */
static char *quoted_list(const struct cfg_node *n, const char *const *names, size_t count,
                         const char *sep, const char *last_sep)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < count; i++) {
        g_autofree char *q = cfg_node_quote(n, names[i]);

        if (i)
            g_string_append(s, i + 1 < count ? sep : last_sep);
        g_string_append(s, q);
    }
    return g_string_free(s, FALSE);
}

void cfg_unknown(GError **error, const struct cfg_node *at, const struct cfg_node *table,
                 const char *noun, const char *key, const char *const *known, size_t count)
{
    g_autofree char *q = cfg_node_quote(at, key);
    g_autofree char *in = section_name(table);
    g_autofree char *list = quoted_list(at, known, count, ", ", ", ");
    const char *best = NULL;
    unsigned best_d = 3; /* suggest only close matches */

    for (size_t i = 0; i < count; i++) {
        unsigned d = edit_distance(key, known[i]);

        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    if (best) {
        g_autofree char *qb = cfg_node_quote(at, best);

        cfg_error(error, at, "unknown %s %s in %s; did you mean %s?", noun, q, in, qb);
    } else {
        cfg_error(error, at, "unknown %s %s in %s (known: %s)", noun, q, in, list);
    }
}

/* A top-level section the document should not have. */
static void unknown_section(GError **error, const struct cfg_node *at, const char *key,
                            const struct cfg_key *keys)
{
    g_autofree char *q = NULL;
    GString *known = g_string_new(NULL);

    /* TOML: the key as TOML writes it (quoted, escaped when it must be). */
    q = at->json ? cfg_node_quote(at, key) : g_strdup_printf("[%s]", cfg_node_path(at));
    for (const struct cfg_key *k = keys; k->name; k++) {
        g_autofree char *kq = at->json ? cfg_node_quote(at, k->name)
                              : g_strdup_printf(k->type == CFG_TABLES ? "[[%s]]" : "[%s]",
                                                k->name);

        g_string_append_printf(known, "%s%s", known->len ? ", " : "", kq);
    }
    if (at->json && *at->doc->base)
        cfg_error(error, at, "unknown section %s in '%s' (known: %s)", q, at->doc->base,
                  known->str);
    else
        cfg_error(error, at, "unknown section %s (known: %s)", q, known->str);
    g_string_free(known, TRUE);
}

static bool read_table(const struct cfg_key *keys, const struct cfg_node *t, void *target,
                       bool root, GError **error);

static bool expect(const struct cfg_node *n, cfg_vtype type, const char *what, GError **error)
{
    if (cfg_node_type(n) == type)
        return true;
    cfg_error(error, n, "%s: expected %s, found %s", cfg_node_path(n), what,
              cfg_node_type_name(n));
    return false;
}

static const char *table_word(const struct cfg_node *n)
{
    return n->json ? "an object" : "a table";
}

static bool read_string(const struct cfg_key *k, const struct cfg_node *n, void *field,
                        GError **error)
{
    const char *s;

    if (!expect(n, CFG_V_STRING, "a string", error))
        return false;
    s = cfg_node_string(n);
    if (!s) {
        cfg_error(error, n, "%s: a string holding NUL (\\u0000) is not allowed",
                  cfg_node_path(n));
        return false;
    }
    if (k->valid && !k->valid(s)) {
        g_autofree char *q = cfg_node_quote(n, s);

        cfg_error(error, n, "%s: %s is not a %s (%s)", cfg_node_path(n), q, k->noun, k->rule);
        return false;
    }
    g_free(*(char **)field);
    *(char **)field = g_strdup(s);
    return true;
}

static bool read_int(const struct cfg_key *k, const struct cfg_node *n, void *field,
                     GError **error)
{
    int64_t v;

    if (!expect(n, CFG_V_INTEGER, "an integer", error))
        return false;
    v = node_int(n);
    if (v < k->min || v > k->max) {
        cfg_error(error, n, "%s: %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT
                  " to %" G_GINT64_FORMAT ")", cfg_node_path(n), v, k->min, k->max);
        return false;
    }
    if (k->size == sizeof(int64_t))
        *(int64_t *)field = v;
    else
        *(unsigned *)field = v;
    return true;
}

/* The size strings of CFG_SIZE keys and --memory. */
bool config_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    guint64 n;
    unsigned shift = 0;

    if (!g_ascii_isdigit(text[0]))
        return false;
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
    if (errno)
        return false;
    switch (g_ascii_toupper(*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    case '\0': break;
    default: return false;
    }
    if (*end == 'i' && shift)
        end++;
    if ((*end == 'B' || *end == 'b') && shift)
        end++;
    if (*end || n > (UINT64_MAX >> shift))
        return false;
    *bytes = n << shift;
    return true;
}

static bool read_size(const struct cfg_key *k, const struct cfg_node *n, void *field,
                      GError **error)
{
    const char *path = cfg_node_path(n);
    g_autofree char *shown = NULL, *why = NULL;
    uint64_t bytes;

    if (cfg_node_type(n) == CFG_V_INTEGER) {
        int64_t mib = node_int(n);

        if (mib < 0 || (uint64_t)mib > (UINT64_MAX >> 20)) {
            cfg_error(error, n, "%s: %" G_GINT64_FORMAT " MiB is not a memory size", path, mib);
            return false;
        }
        bytes = (uint64_t)mib << 20;
        shown = g_strdup_printf("%" G_GINT64_FORMAT " MiB", mib);
    } else if (cfg_node_type(n) == CFG_V_STRING) {
        const char *s = cfg_node_string(n);

        if (!s || !config_parse_size(s, &bytes)) {
            g_autofree char *q = cfg_node_quote(n, s ? s : "");

            cfg_error(error, n, "%s: %s is not a size (use a number of MiB, or a string such "
                      "as \"512M\" or \"2G\")", path, q);
            return false;
        }
        shown = g_strdup(s);
    } else {
        cfg_error(error, n, "%s: expected an integer (MiB) or a string such as \"512M\", "
                  "found %s", path, cfg_node_type_name(n));
        return false;
    }
    why = k->size_problem ? k->size_problem(bytes, shown) : NULL;
    if (why) {
        cfg_error(error, n, "%s: %s", path, why);
        return false;
    }
    *(uint64_t *)field = bytes;
    return true;
}

static int name_index(const struct cfg_key *k, const char *s)
{
    for (size_t i = 0; s && i < k->n_names; i++)
        if (!strcmp(k->names[i], s))
            return i;
    return -1;
}

static bool read_enum(const struct cfg_key *k, const struct cfg_node *n, void *field,
                      GError **error)
{
    int i;

    if (!expect(n, CFG_V_STRING, "a string", error))
        return false;
    i = name_index(k, cfg_node_string(n));
    if (i < 0) {
        g_autofree char *q = cfg_node_quote(n, cfg_node_string(n) ? cfg_node_string(n) : "");
        g_autofree char *list = quoted_list(n, k->names, k->n_names, ", ", " or ");

        cfg_error(error, n, "%s: %s is not a %s (%s)", cfg_node_path(n), q, k->noun, list);
        return false;
    }
    *(int *)field = k->values ? k->values[i] : i;
    return true;
}

/* An array of names: TOML messages about an element name the array (the
 * position says which), JSON ones the element's path. */
static bool read_name_set(const struct cfg_key *k, const struct cfg_node *n, void *field,
                          GError **error)
{
    uint32_t bits = 0;

    if (!expect(n, CFG_V_ARRAY, "an array of strings", error))
        return false;
    for (size_t i = 0; i < cfg_node_len(n); i++) {
        struct cfg_node e = cfg_node_child(n, i);
        const char *path = e.json ? cfg_node_path(&e) : cfg_node_path(n);
        int f;

        if (cfg_node_type(&e) != CFG_V_STRING) {
            cfg_error(error, &e, "%s: expected strings, found %s", path, cfg_node_type_name(&e));
            return false;
        }
        f = name_index(k, cfg_node_string(&e));
        if (f < 0) {
            g_autofree char *q = cfg_node_quote(&e, cfg_node_string(&e) ? cfg_node_string(&e)
                                                                       : toml_string(e.toml));
            g_autofree char *list = quoted_list(&e, k->names, k->n_names, ", ", ", ");

            cfg_error(error, &e, "%s: unknown %s %s (known: %s)", path, k->noun, q, list);
            return false;
        }
        bits |= 1U << f;
    }
    *(uint32_t *)field = bits;
    return true;
}

static bool read_tables(const struct cfg_key *k, const struct cfg_node *n, void *target,
                        GError **error)
{
    if (!expect(n, CFG_V_ARRAY, "an array of tables", error))
        return false;
    for (size_t i = 0; i < cfg_node_len(n); i++) {
        struct cfg_node e = cfg_node_child(n, i);
        g_autofree void *elem = NULL;

        if (cfg_node_type(&e) != CFG_V_TABLE) {
            cfg_error(error, &e, "%s: expected tables, found %s", cfg_node_path(n),
                      cfg_node_type_name(&e));
            return false;
        }
        bool ok;

        elem = g_malloc0(k->elem_size);
        ok = read_table(k->keys, &e, elem, false, error) && k->each(&e, elem, target, error);
        k->elem_clear(elem);
        if (!ok)
            return false;
    }
    return true;
}

static bool read_key(const struct cfg_key *k, const struct cfg_node *n, void *target,
                     GError **error)
{
    void *field = (char *)target + k->offset;

    switch (k->type) {
    case CFG_TABLE:
        if (cfg_node_type(n) != CFG_V_TABLE) {
            cfg_error(error, n, "%s: expected %s, found %s", cfg_node_path(n), table_word(n),
                      cfg_node_type_name(n));
            return false;
        }
        return read_table(k->keys, n, field, false, error);
    case CFG_TABLES: return read_tables(k, n, target, error);
    case CFG_STRING: return read_string(k, n, field, error);
    case CFG_INT: return read_int(k, n, field, error);
    case CFG_SIZE: return read_size(k, n, field, error);
    case CFG_BOOL:
        if (!expect(n, CFG_V_BOOL, "a boolean", error))
            return false;
        *(bool *)field = node_bool(n);
        return true;
    case CFG_ENUM: return read_enum(k, n, field, error);
    case CFG_NAME_SET: return read_name_set(k, n, field, error);
    case CFG_CUSTOM: return k->read(n, field, error);
    }
    return false;
}

/* @root: the document's top, whose keys are sections; @partial: other
 * members are someone else's. */
static bool read_table_as(const struct cfg_key *keys, const struct cfg_node *t, void *target,
                          bool root, bool partial, GError **error)
{
    size_t nkeys = 0;

    while (keys[nkeys].name)
        nkeys++;
    /* Unknown keys first: a typo is the likeliest mistake. */
    for (size_t i = 0; !partial && i < cfg_node_len(t); i++) {
        const char *key = cfg_node_key(t, i);
        struct cfg_node v = cfg_node_child(t, i);
        size_t k = 0;

        while (k < nkeys && strcmp(keys[k].name, key))
            k++;
        if (k < nkeys)
            continue;
        if (root) {
            unknown_section(error, &v, key, keys);
        } else {
            const char *known[nkeys + 1];

            for (size_t j = 0; j < nkeys; j++)
                known[j] = keys[j].name;
            cfg_unknown(error, &v, t, "key", key, known, nkeys);
        }
        return false;
    }
    for (size_t k = 0; k < nkeys; k++) {
        struct cfg_node v;

        if (cfg_node_lookup(t, keys[k].name, &v)) {
            if (!read_key(&keys[k], &v, target, error))
                return false;
        } else if (keys[k].required) {
            g_autofree char *in = section_name(t);

            cfg_error(error, t, "%s needs %s", in, keys[k].name);
            return false;
        }
    }
    return true;
}

static bool read_table(const struct cfg_key *keys, const struct cfg_node *t, void *target,
                       bool root, GError **error)
{
    return read_table_as(keys, t, target, root, false, error);
}

bool cfg_read_toml(const struct cfg_key *keys, const toml_value *root, void *target,
                   cfg_check_fn check, GError **error)
{
    struct cfg_doc doc = { .json = false, .base = "",
                           .strings = g_ptr_array_new_with_free_func(g_free) };
    struct cfg_node n = { .doc = &doc, .toml = root };
    bool ok = read_table(keys, &n, target, true, error) && (!check || check(&n, target, error));

    g_ptr_array_unref(doc.strings);
    return ok;
}

bool cfg_read_json(const struct cfg_key *keys, JsonNode *root, const char *base,
                   void *target, cfg_check_fn check, GError **error)
{
    struct cfg_doc doc = { .json = true, .base = base,
                           .strings = g_ptr_array_new_with_free_func(g_free) };
    struct cfg_node n = { .doc = &doc, .json = root, .path = base };
    bool ok;

    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        cfg_error(error, &n, "%s: expected an object, found %s", base, cfg_node_type_name(&n));
        ok = false;
    } else {
        ok = read_table(keys, &n, target, true, error) && (!check || check(&n, target, error));
    }
    g_ptr_array_unref(doc.strings);
    return ok;
}

bool cfg_read_json_members(const struct cfg_key *keys, JsonNode *root, const char *base,
                           void *target, GError **error)
{
    struct cfg_doc doc = { .json = true, .base = base,
                           .strings = g_ptr_array_new_with_free_func(g_free) };
    struct cfg_node n = { .doc = &doc, .json = root, .path = base };
    bool ok = read_table_as(keys, &n, target, false, true, error);

    g_ptr_array_unref(doc.strings);
    return ok;
}

/* The key with .option @option in @keys or its tables, and its target. */
static const struct cfg_key *option_key(const struct cfg_key *keys, void *target,
                                        const char *option, void **key_target)
{
    for (const struct cfg_key *k = keys; k->name; k++) {
        if (k->option && !strcmp(k->option, option)) {
            *key_target = target;
            return k;
        }
        if (k->type == CFG_TABLE) {
            const struct cfg_key *found = option_key(k->keys, (char *)target + k->offset,
                                                     option, key_target);

            if (found)
                return found;
        }
    }
    return NULL;
}

bool cfg_set_option(const struct cfg_key *keys, void *target, const char *option,
                    const char *text, GError **error)
{
    void *t = NULL;
    const struct cfg_key *k = option_key(keys, target, option, &t);
    void *field;

    if (!k) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "unknown option %s", option);
        return false;
    }
    field = (char *)t + k->offset;
    switch (k->type) {
    case CFG_STRING:
        g_free(*(char **)field);
        *(char **)field = g_strdup(text);
        break;
    case CFG_INT: {
        char *end;
        guint64 n = g_ascii_strtoull(text, &end, 10);

        if (!g_ascii_isdigit(*text) || *end || n < (guint64)MAX(k->min, 0) ||
            n > (guint64)k->max) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "%s: \"%s\" is not a %s (%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT ")",
                        option, text, k->noun, k->min, k->max);
            return false;
        }
        if (k->size == sizeof(int64_t))
            *(int64_t *)field = n;
        else
            *(unsigned *)field = n;
        break;
    }
    case CFG_SIZE: {
        g_autofree char *why = NULL;
        uint64_t bytes;

        if (!config_parse_size(text, &bytes)) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "%s: \"%s\" is not a size (such as 512M or 2G)", option, text);
            return false;
        }
        why = k->size_problem ? k->size_problem(bytes, text) : NULL;
        if (why) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", option, why);
            return false;
        }
        *(uint64_t *)field = bytes;
        break;
    }
    case CFG_TABLES:
        if (!k->option_add)
            goto not_settable;
        return k->option_add(t, option, text, error);
    case CFG_BOOL:
        if (strcmp(text, "on") && strcmp(text, "off")) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: \"%s\" is not on or off",
                        option, text);
            return false;
        }
        *(bool *)field = !strcmp(text, "on");
        break;
    default:
    not_settable:
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: not settable from the command "
                    "line", option);
        return false;
    }
    return !k->option_set || k->option_set(t, option, error);
}
