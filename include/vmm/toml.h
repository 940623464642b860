/*
 * A TOML 1.0.0 reader. toml_parse() turns a document into a tree of
 * toml_value nodes owned by the root; toml_free(root) releases all of it.
 * Every value remembers where it was defined, so callers can report their
 * own errors as "<source>:<line>:<column>: ..." like the parser does.
 * Columns count characters (Unicode code points) from 1, not bytes.
 * See docs/toml.md.
 */
#ifndef VMM_TOML_H
#define VMM_TOML_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_TOML_ERROR (vmm_toml_error_quark())
GQuark vmm_toml_error_quark(void);

typedef enum {
    VMM_TOML_ERROR_SYNTAX,  /* the text is not valid TOML 1.0 */
    VMM_TOML_ERROR_TYPE,    /* a value has the wrong type (getters, toml_set_error) */
    VMM_TOML_ERROR_LIMIT,   /* valid TOML beyond what this reader holds (depth, int64) */
    VMM_TOML_ERROR_IO,      /* the file could not be read */
} VmmTomlError;

/* Nesting deeper than this (tables, arrays, inline tables) is refused. */
#define TOML_MAX_DEPTH 128
/* toml_parse_file() refuses a file larger than this (a config is a few
 * hundred bytes; /dev/zero must not fill memory). */
#define TOML_MAX_FILE_SIZE (64u << 20)

typedef enum {
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME,          /* offset date-time */
    TOML_DATETIME_LOCAL,
    TOML_DATE_LOCAL,
    TOML_TIME_LOCAL,
} toml_type;

typedef struct toml_value toml_value;

/* Fields a type does not have are 0 (a local date has no hour). Fractions
 * finer than a nanosecond are truncated. */
typedef struct {
    int year, month, day, hour, minute, second;
    int nanosecond;
    bool has_offset;
    int offset_minutes;     /* east of UTC; "Z" is 0 */
} toml_datetime;

/* @source_name (NULL: "<input>") prefixes error messages and is kept for
 * toml_source_name(). @text need not be NUL-terminated. */
toml_value *toml_parse(const char *text, size_t len, const char *source_name,
                       GError **error);
toml_value *toml_parse_file(const char *path, GError **error);
/* Frees the whole document. Only for roots; NULL is fine. */
void toml_free(toml_value *root);

toml_type toml_type_of(const toml_value *v);
/* "table", "array", "string", "integer", "float", "boolean",
 * "offset date-time", "local date-time", "local date", "local time" */
const char *toml_type_name(toml_type t);
/* 1-based. Table entries: where the key that defined them starts (for a
 * [header] table, its "["; for dotted keys, that segment). Array elements:
 * where the value starts. Root: 1:1. */
void toml_pos(const toml_value *v, unsigned *line, unsigned *column);
const char *toml_source_name(const toml_value *v);
/* The key path from the root, e.g. "vm.memory" or "disk[1].path"
 * (segments quoted when they are not bare keys); "" for the root.
 * Free with g_free(). */
char *toml_key_path(const toml_value *v);

/* Tables, entries in document order. */
size_t toml_table_size(const toml_value *t);
const char *toml_table_key(const toml_value *t, size_t i);
/* Keys may contain NUL too ("\u0000"): the length in bytes. */
size_t toml_table_key_len(const toml_value *t, size_t i);
toml_value *toml_table_value(const toml_value *t, size_t i);
toml_value *toml_table_get(const toml_value *t, const char *key);

/* Arrays. */
size_t toml_array_len(const toml_value *a);
toml_value *toml_array_get(const toml_value *a, size_t i);

/* Scalars; the caller checks the type first. Strings are NUL-terminated
 * but may contain NUL themselves (from "\u0000"): use toml_string_len(). */
const char *toml_string(const toml_value *v);
size_t toml_string_len(const toml_value *v);
/* TRUE when the string holds a NUL, so that toml_string() would read as a
 * shorter one ("info\u0000x" as "info"): such a value is never valid. */
gboolean toml_string_has_nul(const toml_value *v);
int64_t toml_integer(const toml_value *v);
double toml_float(const toml_value *v);
bool toml_bool(const toml_value *v);
const toml_datetime *toml_datetime_of(const toml_value *v);

/* The value at a dotted path of bare keys ("vm.memory") below table
 * @root; NULL if any segment is absent or not a table. "" is @root. */
toml_value *toml_lookup(const toml_value *root, const char *path);

/* Typed getters. Absent: *out = def and TRUE. Present with the wrong
 * type (or a segment of the path is not a table): FALSE and a
 * VMM_TOML_ERROR_TYPE error such as
 * "configs/x.toml:3:1: vm.vcpus: expected an integer, found a string",
 * naming the key by its full path from the document root. A string
 * holding NUL ("\u0000") is refused the same way by toml_get_string(),
 * never cut short. */
gboolean toml_get_string(const toml_value *root, const char *path,
                         const char *def, const char **out, GError **error);
gboolean toml_get_int(const toml_value *root, const char *path,
                      int64_t def, int64_t *out, GError **error);
gboolean toml_get_bool(const toml_value *root, const char *path,
                       bool def, bool *out, GError **error);
/* Absent: *out = NULL and TRUE. */
gboolean toml_get_table(const toml_value *root, const char *path,
                        const toml_value **out, GError **error);
gboolean toml_get_array(const toml_value *root, const char *path,
                        const toml_value **out, GError **error);

/* "<source>:<line>:<column>: <message>" at @at (no position if @at is
 * NULL), code VMM_TOML_ERROR_TYPE: for callers' own checks of values. */
void toml_set_error(GError **error, const toml_value *at, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

#endif
