// fuzz-sources: lib/toml/toml.c src/config/schema.c src/base/error.c
// fuzz-includes: include
// fuzz-pkgs: glib-2.0 json-glib-1.0
// fuzz-libs: -lm
// fuzz-dict: fuzz/toml.dict
// fuzz-seeds: fuzz/toml_seeds
// fuzz-options: -max_len=65536
/*
 * libFuzzer target: any byte string goes to toml_parse(). Besides crashes
 * and leaks (ASan, UBSan), this walks the tree it gets back through the
 * public API, so a malformed tree shows up too. Then the config schema's
 * reader (src/config/schema.c) reads the tree, and the same bytes as JSON
 * when they are JSON, against a schema with every kind of key: every
 * error it gives must be one line. Run with fuzz/run.
 */
#include "vmm/schema.h"
#include "vmm/toml.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strings must be valid UTF-8, NUL (from "\u0000") included. */
static void check_utf8(const char *s, size_t len)
{
    const char *end = s + len, *stop;

    if (*end != '\0')
        __builtin_trap();
    while (!g_utf8_validate_len(s, end - s, &stop)) {
        if (*stop != '\0')
            __builtin_trap();
        s = stop + 1;
    }
}

/* Depth is bounded by TOML_MAX_DEPTH, so plain recursion is fine here. */
static size_t walk(const toml_value *v, unsigned *paths)
{
    size_t n = 1;
    unsigned line, col;

    toml_pos(v, &line, &col);
    if (line < 1 || col < 1)
        __builtin_trap();
    if ((*paths)++ < 64)
        g_free(toml_key_path(v));
    switch (toml_type_of(v)) {
    case TOML_TABLE:
        for (size_t i = 0; i < toml_table_size(v); i++) {
            const char *key = toml_table_key(v, i);
            /* Every key must find its own value (unless it holds a NUL). */
            if (strlen(key) == toml_table_key_len(v, i) &&
                toml_table_get(v, key) != toml_table_value(v, i))
                __builtin_trap();
            n += walk(toml_table_value(v, i), paths);
        }
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < toml_array_len(v); i++)
            n += walk(toml_array_get(v, i), paths);
        break;
    case TOML_STRING:
        check_utf8(toml_string(v), toml_string_len(v));
        break;
    default:
        break;
    }
    return n;
}

/* Where the fuzz schema stores what it reads. */
struct target {
    char *name, *path;
    unsigned count;
    int64_t big;
    uint64_t bytes;
    bool on;
    int pick;
    uint32_t set;
    unsigned items;
    struct { unsigned n; } sub;
};

static bool no_space(const char *s)
{
    return !strchr(s, ' ');
}

static char *odd_size(uint64_t bytes, const char *shown)
{
    return bytes & 1 ? g_strdup_printf("%s is odd", shown) : NULL;
}

/* A custom key: walks what it is given through the node API. */
static bool read_any(const struct cfg_node *n, void *field, GError **error)
{
    g_free(cfg_node_where(n, true));
    g_free(cfg_node_where(n, false));
    if (cfg_node_type(n) == CFG_V_TABLE || cfg_node_type(n) == CFG_V_ARRAY) {
        for (size_t i = 0; i < cfg_node_len(n) && i < 64; i++) {
            struct cfg_node c = cfg_node_child(n, i);

            if (cfg_node_type(n) == CFG_V_TABLE)
                cfg_node_key(n, i);
            if (!read_any(&c, field, error))
                return false;
        }
    }
    if (cfg_node_type(n) == CFG_V_STRING && cfg_node_string(n) &&
        !strcmp(cfg_node_string(n), "no")) {
        cfg_error(error, n, "%s: no", cfg_node_path(n));
        return false;
    }
    ++*(unsigned *)field;
    return true;
}

static bool each_item(const struct cfg_node *n, void *elem, void *target, GError **error)
{
    ((struct target *)target)->items++;
    return true;
}

static void item_clear(void *elem)
{
    g_free(*(char **)elem);
}

static const char *const picks[] = { "one", "two", "three" };
static const struct cfg_key sub_keys[] = {
    { "n", CFG_INT, CFG_FIELD(struct target, sub.n), .min = 0, .max = 9 },
    { NULL },
};
static const struct cfg_key item_keys[] = {
    { "name", CFG_STRING, 0, sizeof(char *), .required = true },
    { NULL },
};
static const struct cfg_key part_keys[] = {
    { "name", CFG_STRING, CFG_FIELD(struct target, name), .valid = no_space, .noun = "name",
      .rule = "no spaces" },
    { "path", CFG_STRING, CFG_FIELD(struct target, path) },
    { "count", CFG_INT, CFG_FIELD(struct target, count), .min = 1, .max = 4096 },
    { "big", CFG_INT, CFG_FIELD(struct target, big), .min = INT64_MIN, .max = INT64_MAX },
    { "size", CFG_SIZE, CFG_FIELD(struct target, bytes), .size_problem = odd_size },
    { "on", CFG_BOOL, CFG_FIELD(struct target, on) },
    { "pick", CFG_ENUM, CFG_FIELD(struct target, pick), .names = picks, .n_names = 3,
      .noun = "pick" },
    { "set", CFG_NAME_SET, CFG_FIELD(struct target, set), .names = picks, .n_names = 3,
      .noun = "pick" },
    { "any", CFG_CUSTOM, CFG_FIELD(struct target, items), .read = read_any },
    { "sub", CFG_TABLE, 0, 0, .keys = sub_keys },
    { NULL },
};
static const struct cfg_key fuzz_keys[] = {
    { "a", CFG_TABLE, 0, 0, .keys = part_keys },
    { "b", CFG_TABLE, 0, 0, .keys = part_keys },
    { "item", CFG_TABLES, 0, 0, .keys = item_keys, .elem_size = sizeof(char *),
      .each = each_item, .elem_clear = item_clear },
    { NULL },
};

/* The schema reader's verdict: an error of one line, or none. */
static void read_schema(bool ok, GError *error, struct target *t)
{
    if (!ok && (!error || strchr(error->message, '\n')))
        __builtin_trap();
    g_clear_error(&error);
    g_free(t->name);
    g_free(t->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    toml_value *root = toml_parse((const char *)data, size, "fuzz", &error);
    unsigned paths = 0;
    JsonParser *parser = json_parser_new();

    if (json_parser_load_from_data(parser, (const char *)data, size, NULL)) {
        struct target t = { 0 };
        JsonNode *json = json_parser_get_root(parser);
        GError *json_error = NULL;

        if (json) {
            bool ok = cfg_read_json(fuzz_keys, json, "config", &t, NULL, &json_error);

            read_schema(ok, json_error, &t);
            json_error = NULL;
            memset(&t, 0, sizeof(t));
            if (JSON_NODE_HOLDS_OBJECT(json)) {
                ok = cfg_read_json_members(part_keys, json, "", &t, &json_error);
                read_schema(ok, json_error, &t);
            }
        }
    }
    g_object_unref(parser);
    if (root) {
        struct target t = { 0 };
        bool ok;

        walk(root, &paths);
        ok = cfg_read_toml(fuzz_keys, root, &t, NULL, &error);
        read_schema(ok, error, &t);
        error = NULL;
        toml_free(root);
    } else if (!error || strncmp(error->message, "fuzz:", 5) != 0) {
        __builtin_trap();
    }
    g_clear_error(&error);
    return 0;
}
