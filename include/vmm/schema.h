/*
 * The configuration schema: tables of keys (name, type, range, target
 * field, docs, command-line option) and the one reader that walks them
 * over a TOML document or a JSON object. The VM config, its [policy]
 * (also set-policy's arguments) and the manager config are such tables
 * (config_schema.c, manager_config.c); docs/toml.md's key reference is
 * printed from them (tools/config-keys.c).
 *
 * Every mistake is one line naming where it is: in TOML
 * "FILE:LINE:COL: vm.vcpus: ...", in JSON the member path from the
 * object's base ("config.vm.vcpus: ..."). TOML messages quote values with
 * double quotes, JSON (QMP) ones with single quotes, as QMP's own do.
 */
#ifndef VMM_SCHEMA_H
#define VMM_SCHEMA_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/toml.h"

/* A value in a document being read: one of the two forms. */
struct cfg_doc;
struct cfg_node {
    const struct cfg_doc *doc;
    const toml_value *toml;
    JsonNode *json;
    const char *path;        /* JSON: member path from the base; TOML: NULL */
};

typedef enum {
    CFG_TABLE,      /* a table (JSON: an object) of .keys; .offset: its target */
    CFG_TABLES,     /* an array of such tables; .each takes each one */
    CFG_STRING,     /* char *: replaced by a copy */
    CFG_INT,        /* an integer in [min, max] into an int or int64 field */
    CFG_SIZE,       /* bytes into a uint64_t: an integer of MiB or "512M" */
    CFG_BOOL,
    CFG_ENUM,       /* one of .names, its index into an int field */
    CFG_NAME_SET,   /* an array of .names, their bits into a uint32_t */
    CFG_CUSTOM,     /* .read does it all */
} cfg_type;

struct cfg_key {
    const char *name;
    cfg_type type;
    size_t offset;                  /* the field (or sub-target) in the target */
    size_t size;                    /* CFG_INT: sizeof the field */
    int64_t min, max;               /* CFG_INT */
    const char *const *names;       /* CFG_ENUM, CFG_NAME_SET: @n_names of them */
    size_t n_names;
    const int *values;              /* CFG_ENUM: names[i] stores values[i] (NULL: i) */
    const char *noun;               /* what a value is: "role", "guest flag", "VM name" */
    /* CFG_STRING: the rule a value must follow (@noun names it, .rule says it). */
    bool (*valid)(const char *value);
    const char *rule;
    /* CFG_SIZE: why @bytes (written @shown) cannot be, or NULL. */
    char *(*size_problem)(uint64_t bytes, const char *shown);
    bool (*read)(const struct cfg_node *n, void *target, GError **error); /* CFG_CUSTOM */
    const struct cfg_key *keys;     /* CFG_TABLE, CFG_TABLES: NULL-name ended */
    /* CFG_TABLES: each element is read into a zeroed @elem_size target,
     * handed to @each, then cleared by @elem_clear. */
    size_t elem_size;
    bool (*each)(const struct cfg_node *n, void *elem, void *target, GError **error);
    void (*elem_clear)(void *elem);
    bool required;                  /* a table without it is an error */
    /* Docs (tools/config-keys.c) and the command line (config_set_option). */
    const char *type_doc, *default_doc, *doc;
    /* The command-line option that sets it ("--cpus"), its argument
     * ("N") and usage line; @option_set runs after the value is stored. */
    const char *option, *option_arg, *option_doc;
    bool (*option_set)(void *target, const char *option, GError **error);
    /* CFG_TABLES with an .option: one more element from command-line
     * text (the option may be repeated). */
    bool (*option_add)(void *target, const char *option, const char *text, GError **error);
};

#define CFG_FIELD(type, field) offsetof(type, field), sizeof(((type *)0)->field)

/* After the walk, with the document still there: checks across keys. */
typedef bool (*cfg_check_fn)(const struct cfg_node *root, void *target, GError **error);

/* Reads @root (the document's top table) against @keys into @target,
 * then runs @check (may be NULL). */
bool cfg_read_toml(const struct cfg_key *keys, const toml_value *root, void *target,
                   cfg_check_fn check, GError **error);
/* The same for a JSON object; @base names it in messages ("config", or
 * "" for a command's own arguments). */
bool cfg_read_json(const struct cfg_key *keys, JsonNode *root, const char *base,
                   void *target, cfg_check_fn check, GError **error);

/* Only the members @keys name, whatever else the object holds (a command's
 * arguments, checked by the command's own schema). */
bool cfg_read_json_members(const struct cfg_key *keys, JsonNode *root, const char *base,
                           void *target, GError **error);

/* Sets the key whose .option is @option (in @keys and its tables) from
 * command-line text, with messages naming the option. */
bool cfg_set_option(const struct cfg_key *keys, void *target, const char *option,
                    const char *text, GError **error);

/* The schemas: the VM config's sections (config_schema.c) and the
 * manager config's (manager_config.c). */
extern const struct cfg_key config_keys[];
extern const struct cfg_key manager_config_keys[];

/* For hooks and checks after the walk. */
typedef enum { CFG_V_TABLE, CFG_V_ARRAY, CFG_V_STRING, CFG_V_INTEGER, CFG_V_BOOL,
               CFG_V_OTHER } cfg_vtype;
cfg_vtype cfg_node_type(const struct cfg_node *n);
/* "an integer", "a table"/"an object", "null", ... in the node's form. */
const char *cfg_node_type_name(const struct cfg_node *n);
/* The key path ("policy.flags", "config.policy.flags", "flags[1]"). */
const char *cfg_node_path(const struct cfg_node *n);
/* Table members and array elements, as nodes of the same document. */
size_t cfg_node_len(const struct cfg_node *n);
const char *cfg_node_key(const struct cfg_node *n, size_t i);
struct cfg_node cfg_node_child(const struct cfg_node *n, size_t i);
/* The member at a dotted path of keys below @n; FALSE if absent. */
bool cfg_node_lookup(const struct cfg_node *n, const char *path, struct cfg_node *out);
/* A string value; NULL if it is not one, or holds a NUL. */
const char *cfg_node_string(const struct cfg_node *n);
/* "FILE:LINE:COL: vm.vcpus" (JSON: "config.vm.vcpus"); without the key:
 * "FILE:LINE:COL" (JSON: the document's base). Newly allocated. */
char *cfg_node_where(const struct cfg_node *n, bool with_key);
/* @s quoted as the node's form quotes values (and escaped). */
char *cfg_node_quote(const struct cfg_node *n, const char *s);
/* "<where>: <message>", code VMM_ERROR_CONFIG (TOML: the TOML type error). */
void cfg_error(GError **error, const struct cfg_node *n, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* "unknown NOUN Q(key) in SECTION; did you mean ...?" (or the known ones). */
void cfg_unknown(GError **error, const struct cfg_node *at, const struct cfg_node *table,
                 const char *noun, const char *key, const char *const *known, size_t count);

#endif
