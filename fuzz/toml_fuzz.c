// fuzz-sources: lib/toml/toml.c
// fuzz-includes: include
// fuzz-pkgs: glib-2.0
// fuzz-libs: -lm
// fuzz-dict: fuzz/toml.dict
// fuzz-seeds: fuzz/toml_seeds
// fuzz-options: -max_len=65536
/*
 * libFuzzer target: any byte string goes to toml_parse(). Besides crashes
 * and leaks (ASan, UBSan), this walks the tree it gets back through the
 * public API, so a malformed tree shows up too. Run with fuzz/run.
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *error = NULL;
    toml_value *root = toml_parse((const char *)data, size, "fuzz", &error);
    unsigned paths = 0;

    if (root) {
        walk(root, &paths);
        toml_free(root);
    } else if (!error || strncmp(error->message, "fuzz:", 5) != 0) {
        __builtin_trap();
    }
    g_clear_error(&error);
    return 0;
}
