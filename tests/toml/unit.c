/*
 * The TOML reader's messages for the mistakes people make in a VM config
 * (position and wording), its limits, and the typed getters.
 */
#include "vmm/toml.h"

#include <check.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOURCE "vm.toml"

/* The error message for @text, or NULL if it parses. */
static char *error_of(const char *text, int *code)
{
    GError *error = NULL;
    toml_value *root = toml_parse(text, strlen(text), SOURCE, &error);
    char *msg;

    if (root) {
        toml_free(root);
        return NULL;
    }
    ck_assert_ptr_nonnull(error);
    ck_assert(error->domain == VMM_TOML_ERROR);
    if (code)
        *code = error->code;
    msg = g_strdup(error->message);
    g_error_free(error);
    return msg;
}

#define assert_error(text, expected)                                     \
    do {                                                                 \
        char *msg_ = error_of(text, NULL);                               \
        ck_assert_msg(msg_, "accepted: %s", text);                       \
        ck_assert_str_eq(msg_, expected);                                \
        g_free(msg_);                                                    \
    } while (0)

#define assert_error_code(text, expected, want_code)                     \
    do {                                                                 \
        int code_ = -1;                                                  \
        char *msg_ = error_of(text, &code_);                             \
        ck_assert_msg(msg_, "accepted: %s", text);                       \
        ck_assert_str_eq(msg_, expected);                                \
        ck_assert_int_eq(code_, want_code);                              \
        g_free(msg_);                                                    \
    } while (0)

static toml_value *parse_ok(const char *text)
{
    GError *error = NULL;
    toml_value *root = toml_parse(text, strlen(text), SOURCE, &error);

    ck_assert_msg(root, "rejected: %s", error ? error->message : "?");
    return root;
}

/* ------------------------------------------------------------------ */
/* Common mistakes                                                     */

START_TEST(duplicate_key)
{
    assert_error_code("[vm]\nmemory = \"64M\"\nmemory = \"128M\"\n",
                      SOURCE ":3:1: duplicate key \"memory\"", VMM_TOML_ERROR_SYNTAX);
    assert_error("[vm]\n  name = \"a\"\n  vcpus = 2\n  name = \"b\"\n",
                 SOURCE ":4:3: duplicate key \"name\"");
    assert_error("vm.memory = 1\nvm.memory = 2\n", SOURCE ":2:1: duplicate key \"vm.memory\"");
    assert_error("net = { tap = \"a\", tap = \"b\" }\n", SOURCE ":1:20: duplicate key \"tap\"");
    assert_error("\"a b\" = 1\n'a b' = 2\n", SOURCE ":2:1: duplicate key \"a b\"");
}
END_TEST

START_TEST(unterminated_string)
{
    assert_error("name = \"hello\n", SOURCE ":1:8: unterminated string");
    assert_error("name = \"hello", SOURCE ":1:8: unterminated string");
    assert_error("name = 'hello\n", SOURCE ":1:8: unterminated string");
    assert_error("[vm]\ncmdline = \"\"\"console=ttyS0\n", SOURCE ":2:11: unterminated multi-line string");
}
END_TEST

START_TEST(newline_in_basic_string)
{
    assert_error("[vm]\nname = \"my\nvm\"\n", SOURCE ":2:8: unterminated string");
    assert_error("name = \"my\r\nvm\"\r\n", SOURCE ":1:8: unterminated string");
}
END_TEST

START_TEST(missing_equals)
{
    assert_error("memory \"64M\"\n", SOURCE ":1:8: expected \"=\" after key \"memory\", found '\"'");
    assert_error("memory 64M\n", SOURCE ":1:8: expected \"=\" after key \"memory\", found \"64M\"");
    assert_error("[vm]\nvcpus\n", SOURCE ":2:6: expected \"=\" after key \"vcpus\", found end of line");
    assert_error("memory: 64\n", SOURCE ":1:7: expected \"=\" after key \"memory\", found \":\"");
    assert_error("= 1\n", SOURCE ":1:1: expected a key, found \"=\"");
}
END_TEST

START_TEST(missing_bracket)
{
    assert_error("[vm\nmemory = 1\n", SOURCE ":1:4: missing \"]\" at end of table header");
    assert_error("[vm # comment\n", SOURCE ":1:5: missing \"]\" at end of table header");
    assert_error("[[disk]\npath = \"a\"\n", SOURCE ":1:7: missing \"]]\" at end of table header");
    assert_error("[vm x]\n", SOURCE ":1:5: expected \"]\" at end of table header, found \"x\"");
    assert_error("cmdline = [\"a\", \"b\"\nmemory = 1\n",
                 SOURCE ":2:1: expected \",\" or \"]\" after array element, found \"memory\"");
    assert_error("cmdline = [\"a\", \"b\"\n", SOURCE ":1:11: unterminated array (missing \"]\")");
    assert_error("net = { tap = \"a\"", SOURCE ":1:7: unterminated inline table (missing \"}\")");
}
END_TEST

START_TEST(bare_word_value)
{
    assert_error("memory = 64M\n", SOURCE ":1:10: invalid value \"64M\": strings must be in quotes");
    assert_error("[vm]\nname = hello\n", SOURCE ":2:8: invalid value \"hello\": strings must be in quotes");
    assert_error("path = /boot/vmlinuz\n", SOURCE ":1:8: expected a value after \"=\", found \"/\"");
    assert_error("debug = True\n",
                 SOURCE ":1:9: invalid value \"True\": booleans are written true and false");
    assert_error("memory = 64 M\n", SOURCE ":1:13: expected end of line after value, found \"M\"");
    assert_error("vcpus = 2 4\n", SOURCE ":1:11: expected end of line after value, found \"4\"");
}
END_TEST

START_TEST(table_redefined)
{
    assert_error("[vm]\nmemory = \"1G\"\n\n[vm]\nvcpus = 2\n", SOURCE ":4:1: table [vm] defined twice");
    assert_error("[vm]\nnet.tap = \"tap0\"\n[vm.net]\n",
                 SOURCE ":3:1: table [vm.net] defined twice (first by dotted keys at 2:1)");
    assert_error("vm = 1\n[vm]\n", SOURCE ":2:1: cannot define table [vm]: \"vm\" is already an integer");
    assert_error("[[disk]]\n[disk]\n", SOURCE ":2:1: table [disk] conflicts with array of tables [[disk]]");
    assert_error("[disk]\n[[disk]]\n", SOURCE ":2:1: array of tables [[disk]] conflicts with table [disk]");
    assert_error("disk = []\n[[disk]]\n",
                 SOURCE ":2:1: cannot define array of tables [[disk]]: \"disk\" is already an array");
    assert_error("net = { tap = \"a\" }\n[net.opts]\n",
                 SOURCE ":2:1: cannot define table [net.opts]: \"net\" is an inline table, which cannot be extended");
    assert_error("[vm.net]\ntap = \"a\"\n[vm]\nnet.mac = \"x\"\n",
                 SOURCE ":4:1: cannot set \"net.mac\" with a dotted key: table [vm.net] was created by a table header");
    assert_error("vcpus = 1\nvcpus.max = 2\n",
                 SOURCE ":2:1: cannot set \"vcpus.max\": \"vcpus\" is already an integer");
}
END_TEST

START_TEST(bad_escape)
{
    assert_error("kernel = \"C:\\qemu\\bzImage\"\n", SOURCE ":1:13: invalid escape \"\\q\" in string");
    assert_error("a = \"\\u12\"\n", SOURCE ":1:6: invalid escape \"\\u12\" in string: expected 4 hex digits");
    assert_error("a = \"\\uD800\"\n",
                 SOURCE ":1:6: invalid escape \"\\uD800\" in string: not a Unicode scalar value");
    assert_error("a = \"\\x41\"\n", SOURCE ":1:6: invalid escape \"\\x\" in string");
    assert_error("a = \"\"\"\n\\ x\"\"\"\n", SOURCE ":2:1: invalid escape \"\\ \" in string");
}
END_TEST

START_TEST(inline_table)
{
    assert_error("net = { mac = \"52:54:00:12:34:56\", }\n",
                 SOURCE ":1:34: trailing comma in inline table");
    assert_error("net = { mac = \"x\",\n tap = \"y\" }\n",
                 SOURCE ":1:19: newline in inline table (an inline table must be on one line)");
    assert_error("net = { mac = \"x\" tap = \"y\" }\n",
                 SOURCE ":1:19: expected \",\" or \"}\" in inline table, found \"tap\"");
    assert_error("net = { , }\n", SOURCE ":1:9: expected a key, found \",\"");
}
END_TEST

START_TEST(missing_value)
{
    assert_error("memory =\n", SOURCE ":1:9: expected a value after \"=\"");
    assert_error("memory = # none\n", SOURCE ":1:10: expected a value after \"=\"");
    assert_error("memory = ", SOURCE ":1:10: expected a value after \"=\"");
    assert_error("a = ,\n", SOURCE ":1:5: expected a value after \"=\", found \",\"");
    assert_error("a = [1,,2]\n", SOURCE ":1:8: expected a value or \"]\" in array, found \",\"");
}
END_TEST

START_TEST(encoding)
{
    assert_error("name = \"\xc3\xa9\xff\"\n", SOURCE ":1:10: invalid UTF-8 (byte 0xFF) in a string");
    assert_error("# caf\xc3\n", SOURCE ":1:6: invalid UTF-8 (byte 0xC3) in a comment");
    assert_error("# bell \x07\n", SOURCE ":1:8: control character U+0007 is not allowed in a comment");
    assert_error("a = 'x\x01'\n", SOURCE ":1:7: control character U+0001 is not allowed in a literal string");
    assert_error("a = 1\rb = 2\n",
                 SOURCE ":1:6: expected end of line after value, found a carriage return without a line feed");
    assert_error("a = \xef\xbb\xbf\n",
                 SOURCE ":1:5: expected a value after \"=\", found \"\xef\xbb\xbf\" (U+FEFF)");
}
END_TEST

/* Columns count characters, not bytes; tabs count one; CRLF is one line end. */
START_TEST(columns)
{
    assert_error("a = { \"\xc3\xa9\" = 1, \"\xc3\xa9\" = 2 }\n",
                 SOURCE ":1:16: duplicate key \"\xc3\xa9\"");
    assert_error("\tname = x\n", SOURCE ":1:9: invalid value \"x\": strings must be in quotes");
    assert_error("a = 1\r\nb = \r\n", SOURCE ":2:5: expected a value after \"=\"");
    assert_error("\xef\xbb\xbf" "a = 1\na = 2\n", SOURCE ":2:1: duplicate key \"a\"");
    assert_error("s = \"\"\"\n\xf0\x9f\x98\x80\n\xf0\x9f\x98\x80\xf0\x9f\x98\x80 \\q\"\"\"\n",
                 SOURCE ":3:4: invalid escape \"\\q\" in string");
}
END_TEST

START_TEST(numbers)
{
    assert_error_code("a = 9223372036854775808\n",
                      SOURCE ":1:5: integer \"9223372036854775808\" does not fit in 64 bits",
                      VMM_TOML_ERROR_LIMIT);
    assert_error_code("a = 0x8000000000000000\n",
                      SOURCE ":1:5: integer \"0x8000000000000000\" does not fit in 64 bits",
                      VMM_TOML_ERROR_LIMIT);
    assert_error("a = 012\n", SOURCE ":1:5: invalid number \"012\": leading zeros are not allowed");
    assert_error("a = 1__000\n", SOURCE ":1:5: invalid number \"1__000\"");
    assert_error("a = 1.\n", SOURCE ":1:5: invalid number \"1.\"");
    assert_error_code("a = 1e400\n", SOURCE ":1:5: float \"1e400\" is out of range", VMM_TOML_ERROR_LIMIT);
    assert_error("d = 2024-02-30\n",
                 SOURCE ":1:5: invalid date-time \"2024-02-30\": no such day in that month");
    assert_error("d = 2024-13-01\n",
                 SOURCE ":1:5: invalid date-time \"2024-13-01\": month must be 01 to 12");
    assert_error("t = 24:00:00\n", SOURCE ":1:5: invalid date-time \"24:00:00\": no such time of day");

    toml_value *root = parse_ok("min = -9223372036854775808\nmax = 0x7FFFFFFFFFFFFFFF\n"
                                "b = 0b1010\no = 0o755\nf = 6.626e-34\nu = 1_000\n");
    ck_assert(toml_integer(toml_table_get(root, "min")) == INT64_MIN);
    ck_assert(toml_integer(toml_table_get(root, "max")) == INT64_MAX);
    ck_assert_int_eq(toml_integer(toml_table_get(root, "b")), 10);
    ck_assert_int_eq(toml_integer(toml_table_get(root, "o")), 0755);
    ck_assert_double_eq(toml_float(toml_table_get(root, "f")), 6.626e-34);
    ck_assert_int_eq(toml_integer(toml_table_get(root, "u")), 1000);
    toml_free(root);
}
END_TEST

static char *repeat(const char *s, int n)
{
    GString *out = g_string_new(NULL);
    for (int i = 0; i < n; i++)
        g_string_append(out, s);
    return g_string_free(out, FALSE);
}

START_TEST(nesting_limit)
{
    char *open = repeat("[", TOML_MAX_DEPTH), *close = repeat("]", TOML_MAX_DEPTH);
    char *ok = g_strdup_printf("a = %s%s\n", open, close);
    char *deep = g_strdup_printf("a = [%s%s]\n", open, close);
    char *expected = g_strdup_printf(SOURCE ":1:%d: nesting too deep (more than %d levels)",
                                     5 + TOML_MAX_DEPTH, TOML_MAX_DEPTH);
    toml_value *root = parse_ok(ok);

    toml_free(root);
    assert_error_code(deep, expected, VMM_TOML_ERROR_LIMIT);
    g_free(deep);
    g_free(expected);

    /* Nothing that can nest escapes the limit. */
    char *braces = repeat("{a=", 1000), *dots = repeat("a.", 1000), *header = repeat(".a", 1000);
    int code = -1;
    char *msg;
    deep = g_strdup_printf("x = %s\n", braces);
    msg = error_of(deep, &code);
    ck_assert_int_eq(code, VMM_TOML_ERROR_LIMIT);
    g_free(msg);
    g_free(deep);
    deep = g_strdup_printf("%sb = 1\n", dots);
    msg = error_of(deep, &code);
    ck_assert_int_eq(code, VMM_TOML_ERROR_LIMIT);
    g_free(msg);
    g_free(deep);
    deep = g_strdup_printf("[a%s]\n", header);
    msg = error_of(deep, &code);
    ck_assert_int_eq(code, VMM_TOML_ERROR_LIMIT);
    g_free(msg);
    g_free(deep);
    g_free(braces);
    g_free(dots);
    g_free(header);
    g_free(open);
    g_free(close);
    g_free(ok);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The tree and the getters                                            */

static const char config[] =
    "# test VM\n"
    "[vm]\n"
    "name = \"test\"\n"
    "vcpus = \"2\"\n"
    "memory = 64\n"
    "debug = true\n"
    "\n"
    "[[disk]]\n"
    "path = 5\n";

#define assert_gerror(err, expected)                                     \
    do {                                                                 \
        ck_assert_ptr_nonnull(err);                                      \
        ck_assert(err->domain == VMM_TOML_ERROR);                        \
        ck_assert_int_eq(err->code, VMM_TOML_ERROR_TYPE);                \
        ck_assert_str_eq(err->message, expected);                        \
        g_clear_error(&err);                                             \
    } while (0)

START_TEST(getters_defaults)
{
    toml_value *root = parse_ok(config);
    GError *err = NULL;
    const char *s;
    int64_t i;
    bool b;
    const toml_value *t;

    ck_assert(toml_get_string(root, "vm.name", "x", &s, &err));
    ck_assert_str_eq(s, "test");
    ck_assert(toml_get_string(root, "vm.firmware", "default.elf", &s, &err));
    ck_assert_str_eq(s, "default.elf");
    ck_assert(toml_get_int(root, "vm.memory", 1, &i, &err));
    ck_assert_int_eq(i, 64);
    ck_assert(toml_get_int(root, "vm.absent", 7, &i, &err));
    ck_assert_int_eq(i, 7);
    ck_assert(toml_get_int(root, "nosuch.table.key", 8, &i, &err));
    ck_assert_int_eq(i, 8);
    ck_assert(toml_get_bool(root, "vm.debug", false, &b, &err));
    ck_assert(b);
    ck_assert(toml_get_bool(root, "vm.quiet", true, &b, &err));
    ck_assert(b);
    ck_assert(toml_get_table(root, "vm", &t, &err));
    ck_assert_ptr_eq(t, toml_table_get(root, "vm"));
    ck_assert(toml_get_table(root, "net", &t, &err));
    ck_assert_ptr_null(t);
    ck_assert(toml_get_array(root, "disk", &t, &err));
    ck_assert_int_eq(toml_array_len(t), 1);
    ck_assert(toml_get_array(root, "cmdline", &t, &err));
    ck_assert_ptr_null(t);
    ck_assert_ptr_null(err);
    toml_free(root);
}
END_TEST

START_TEST(getters_type_errors)
{
    toml_value *root = parse_ok(config);
    GError *err = NULL;
    const char *s;
    int64_t i = 0;
    bool b;
    const toml_value *t;

    ck_assert(!toml_get_int(root, "vm.vcpus", 1, &i, &err));
    assert_gerror(err, SOURCE ":4:1: vm.vcpus: expected an integer, found a string");
    ck_assert_int_eq(i, 1);
    ck_assert(!toml_get_bool(root, "vm.name", false, &b, &err));
    assert_gerror(err, SOURCE ":3:1: vm.name: expected a boolean, found a string");
    ck_assert(!toml_get_string(root, "vm.memory", NULL, &s, &err));
    assert_gerror(err, SOURCE ":5:1: vm.memory: expected a string, found an integer");
    ck_assert(!toml_get_int(root, "vm.memory.size", 0, &i, &err));
    assert_gerror(err, SOURCE ":5:1: vm.memory: expected a table, found an integer");
    ck_assert(!toml_get_array(root, "vm", &t, &err));
    assert_gerror(err, SOURCE ":2:1: vm: expected an array, found a table");
    ck_assert(!toml_get_table(root, "disk", &t, &err));
    assert_gerror(err, SOURCE ":8:1: disk: expected a table, found an array");
    ck_assert_ptr_null(t);

    /* Below a sub-table, messages still name the whole path. */
    ck_assert(toml_get_array(root, "disk", &t, &err));
    ck_assert(!toml_get_string(toml_array_get(t, 0), "path", NULL, &s, &err));
    assert_gerror(err, SOURCE ":9:1: disk[0].path: expected a string, found an integer");
    toml_free(root);

    /* NUL: refused, never cut short to what comes before it. */
    root = parse_ok("[vm]\nname = \"a\\u0000b\"\nok = \"a\\\\u0000\"\n");
    s = "unset";
    ck_assert(!toml_get_string(root, "vm.name", NULL, &s, &err));
    assert_gerror(err, SOURCE ":2:1: vm.name: a string holding NUL (\\u0000) is not allowed");
    ck_assert(toml_get_string(root, "vm.ok", NULL, &s, &err));
    ck_assert_str_eq(s, "a\\u0000");
    toml_free(root);
}
END_TEST

START_TEST(set_error)
{
    toml_value *root = parse_ok(config);
    GError *err = NULL;

    toml_set_error(&err, toml_lookup(root, "vm.memory"), "memory %s is too small", "64");
    assert_gerror(err, SOURCE ":5:1: memory 64 is too small");
    toml_set_error(&err, NULL, "no position");
    assert_gerror(err, "no position");
    toml_set_error(NULL, root, "ignored");
    toml_free(root);
}
END_TEST

START_TEST(positions)
{
    toml_value *root = parse_ok("top = 1\n"
                                "[vm]\n"
                                "  net.tap = \"tap0\"\n"
                                "  cmdline = [\"a\",\n"
                                "             \"b\"]\n"
                                "[[disk]]\n"
                                "[[disk]]\n"
                                "[a.b.c]\n");
    unsigned line, col;

    toml_pos(root, &line, &col);
    ck_assert_uint_eq(line, 1);
    ck_assert_uint_eq(col, 1);
#define POS(path, l, c)                                                  \
    do {                                                                 \
        const toml_value *v_ = toml_lookup(root, path);                  \
        ck_assert_msg(v_, "no %s", path);                                \
        toml_pos(v_, &line, &col);                                       \
        ck_assert_uint_eq(line, l);                                      \
        ck_assert_uint_eq(col, c);                                       \
    } while (0)
    POS("top", 1, 1);
    POS("vm", 2, 1);
    POS("vm.net", 3, 3);
    POS("vm.net.tap", 3, 3);
    POS("vm.cmdline", 4, 3);
    POS("disk", 6, 1);
    POS("a", 8, 2);
    POS("a.b", 8, 4);
    POS("a.b.c", 8, 1);
    const toml_value *cmdline = toml_lookup(root, "vm.cmdline");
    toml_pos(toml_array_get(cmdline, 1), &line, &col);
    ck_assert_uint_eq(line, 5);
    ck_assert_uint_eq(col, 14);
    toml_pos(toml_array_get(toml_lookup(root, "disk"), 1), &line, &col);
    ck_assert_uint_eq(line, 7);
    ck_assert_str_eq(toml_source_name(toml_array_get(cmdline, 0)), SOURCE);

    char *path = toml_key_path(toml_array_get(cmdline, 1));
    ck_assert_str_eq(path, "vm.cmdline[1]");
    g_free(path);
    path = toml_key_path(root);
    ck_assert_str_eq(path, "");
    g_free(path);
    toml_free(root);
}
END_TEST

START_TEST(tree)
{
    toml_value *root = parse_ok("z = 1\na = \"x\\u0000y\"\n\"b c\" = 2.5\nm = 1\n"
                                "when = 1979-05-27T07:32:00.5-08:00\nday = 2024-02-29\n"
                                "at = 07:32:00\nlocal = 1979-05-27 07:32:00\n");

    ck_assert_int_eq(toml_table_size(root), 8);
    ck_assert_str_eq(toml_table_key(root, 0), "z");
    ck_assert_str_eq(toml_table_key(root, 1), "a");
    ck_assert_str_eq(toml_table_key(root, 2), "b c");
    ck_assert_int_eq(toml_type_of(toml_table_value(root, 2)), TOML_FLOAT);

    const toml_value *a = toml_table_get(root, "a");
    ck_assert_int_eq(toml_string_len(a), 3);
    ck_assert(memcmp(toml_string(a), "x\0y", 4) == 0);

    const toml_datetime *dt = toml_datetime_of(toml_table_get(root, "when"));
    ck_assert_int_eq(toml_type_of(toml_table_get(root, "when")), TOML_DATETIME);
    ck_assert_int_eq(dt->year, 1979);
    ck_assert_int_eq(dt->hour, 7);
    ck_assert_int_eq(dt->nanosecond, 500000000);
    ck_assert(dt->has_offset);
    ck_assert_int_eq(dt->offset_minutes, -480);
    ck_assert_int_eq(toml_type_of(toml_table_get(root, "day")), TOML_DATE_LOCAL);
    ck_assert_int_eq(toml_type_of(toml_table_get(root, "at")), TOML_TIME_LOCAL);
    ck_assert_int_eq(toml_type_of(toml_table_get(root, "local")), TOML_DATETIME_LOCAL);
    ck_assert(!toml_datetime_of(toml_table_get(root, "local"))->has_offset);

    ck_assert_ptr_null(toml_table_get(root, "nope"));
    ck_assert_ptr_null(toml_lookup(root, "z.y"));
    ck_assert_ptr_eq(toml_lookup(root, ""), root);

    ck_assert_str_eq(toml_type_name(TOML_TABLE), "table");
    ck_assert_str_eq(toml_type_name(TOML_BOOL), "boolean");
    ck_assert_str_eq(toml_type_name(TOML_DATETIME), "offset date-time");
    ck_assert_str_eq(toml_type_name(TOML_TIME_LOCAL), "local time");
    toml_free(root);
    toml_free(NULL);
}
END_TEST

/* Enough keys for the hash index, and order kept. */
START_TEST(big_table)
{
    GString *text = g_string_new("[t]\n");
    toml_value *root;

    for (int i = 0; i < 5000; i++)
        g_string_append_printf(text, "k%d = %d\n", i, i);
    root = parse_ok(text->str);
    const toml_value *t = toml_table_get(root, "t");
    ck_assert_int_eq(toml_table_size(t), 5000);
    for (int i = 0; i < 5000; i += 7) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_str_eq(toml_table_key(t, i), key);
        ck_assert_int_eq(toml_integer(toml_table_get(t, key)), i);
    }
    toml_free(root);
    g_string_append(text, "k4321 = 0\n");
    assert_error(text->str, SOURCE ":5002:1: duplicate key \"k4321\"");
    g_string_free(text, TRUE);
}
END_TEST

START_TEST(parse_file)
{
    char *path = NULL;
    GError *err = NULL;
    int fd = g_file_open_tmp("toml-unit-XXXXXX.toml", &path, &err);

    ck_assert_int_ge(fd, 0);
    ck_assert(write(fd, "[vm]\nmemory = 64M\n", 18) == 18);
    close(fd);
    ck_assert_ptr_null(toml_parse_file(path, &err));
    char *expected = g_strdup_printf("%s:2:10: invalid value \"64M\": strings must be in quotes", path);
    ck_assert_int_eq(err->code, VMM_TOML_ERROR_SYNTAX);
    ck_assert_str_eq(err->message, expected);
    g_clear_error(&err);
    g_free(expected);

    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert(write(fd, "[vm]\nmemory = \"64M\"\n", 20) == 20);
    close(fd);
    toml_value *root = toml_parse_file(path, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(toml_source_name(toml_lookup(root, "vm.memory")), path);
    toml_free(root);
    g_unlink(path);

    ck_assert_ptr_null(toml_parse_file(path, &err));
    expected = g_strdup_printf("%s: No such file or directory", path);
    ck_assert_int_eq(err->code, VMM_TOML_ERROR_IO);
    ck_assert_str_eq(err->message, expected);
    g_clear_error(&err);
    g_free(expected);

    /* A huge file ends in an error, not in all of memory. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(ftruncate(fd, TOML_MAX_FILE_SIZE + 1) == 0);
    close(fd);
    ck_assert_ptr_null(toml_parse_file(path, &err));
    ck_assert_int_eq(err->code, VMM_TOML_ERROR_LIMIT);
    expected = g_strdup_printf("%s: larger than 64 MiB: not a configuration file", path);
    ck_assert_str_eq(err->message, expected);
    g_clear_error(&err);
    g_free(expected);
    g_unlink(path);
    /* Not a regular file: refused at once, never read (nor waited on). */
    ck_assert_ptr_null(toml_parse_file("/dev/zero", &err));
    ck_assert_int_eq(err->code, VMM_TOML_ERROR_IO);
    ck_assert_str_eq(err->message, "/dev/zero: not a regular file (a config must be one)");
    g_clear_error(&err);
    ck_assert(mkfifo(path, 0600) == 0);
    ck_assert_ptr_null(toml_parse_file(path, &err)); /* blocked for ever before */
    ck_assert_int_eq(err->code, VMM_TOML_ERROR_IO);
    ck_assert(strstr(err->message, "not a regular file"));
    g_clear_error(&err);
    g_unlink(path);
    g_free(path);
}
END_TEST

/* A file not named *.toml may be anything (a config path can name any
 * file): its errors say where and why but never quote it. */
START_TEST(parse_file_not_toml_not_quoted)
{
    static const char *const texts[] = {
        "root:x:0:0:root:/root:/bin/bash\n", "SECRET-TOKEN-1234\n", "key = SECRET\n",
        "key = 0xSECRET\n", "key = \"\\SECRET\"\n", "key = \"\\uSECR\"\n",
        "SECRET = 1\nSECRET = 2\n", "[SECRET]\n[SECRET]\n", "[SECRET\n",
        "key = 99999999999999999999999SECRET\n", "key = [1, SECRET]\n", "a = {x = 1 SECRET}\n",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autofree char *dir = g_dir_make_tmp("toml-unit-XXXXXX", NULL);
        g_autofree char *plain = g_build_filename(dir, "conf", NULL);
        g_autofree char *toml = g_build_filename(dir, "conf.toml", NULL);
        GError *err = NULL;

        ck_assert(g_file_set_contents(plain, texts[i], -1, NULL));
        ck_assert(g_file_set_contents(toml, texts[i], -1, NULL));
        ck_assert_ptr_null(toml_parse_file(plain, &err));
        ck_assert_msg(!strstr(err->message, "SECRET") && !strstr(err->message, "root") &&
                      !strstr(err->message, "bash"), "%s", err->message);
        ck_assert_msg(g_str_has_prefix(err->message, plain), "%s", err->message);
        ck_assert_msg(strstr(err->message, "not shown"), "%s", err->message);
        g_clear_error(&err);
        /* A config by name: quoted as ever, to help whoever wrote it. */
        ck_assert_ptr_null(toml_parse_file(toml, &err));
        ck_assert_msg(!strstr(err->message, "not shown"), "%s", err->message);
        g_clear_error(&err);
        g_unlink(plain);
        g_unlink(toml);
        g_rmdir(dir);
    }
}
END_TEST

/* The table rules that trip people up, valid side. */
START_TEST(valid_tables)
{
    toml_value *root = parse_ok("[vm.net]\ntap = \"a\"\n[vm]\nname = \"x\"\n"
                                "[[disk]]\npath = \"a\"\n[disk.opts]\nro = true\n"
                                "[[disk]]\npath = \"b\"\n"
                                "[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true\n");
    ck_assert_str_eq(toml_string(toml_lookup(root, "vm.net.tap")), "a");
    const toml_value *disks = toml_lookup(root, "disk");
    ck_assert_int_eq(toml_array_len(disks), 2);
    ck_assert(toml_bool(toml_lookup(toml_array_get(disks, 0), "opts.ro")));
    ck_assert(toml_bool(toml_lookup(root, "fruit.apple.texture.smooth")));
    toml_free(root);
}
END_TEST

/* Something left over after a complete line. */
START_TEST(trailing_garbage)
{
    assert_error("[vm] name = \"x\"\n",
                 SOURCE ":1:6: expected end of line after table header, found \"name\"");
    assert_error("[vm]]\n", SOURCE ":1:5: expected end of line after table header, found \"]\"");
    assert_error("[vm]\nvcpus = 2,\n", SOURCE ":2:10: expected end of line after value, found \",\"");
    assert_error("name = \"x\" \"y\"\n", SOURCE ":1:12: expected end of line after value, found '\"'");
    assert_error("name = \"x\"junk\n", SOURCE ":1:11: expected end of line after value, found \"junk\"");
    assert_error("vcpus = 2; memory = 64\n", SOURCE ":1:10: expected end of line after value, found \";\"");
    assert_error("memory = \"64M\" // MiB\n", SOURCE ":1:16: expected end of line after value, found \"/\"");
    /* A comment is fine there. */
    toml_free(parse_ok("[vm] # the VM\nmemory = \"64M\" # guest RAM\n"));
}
END_TEST

/* Values that are not quite numbers or booleans. */
START_TEST(near_misses)
{
    assert_error("memory = 512M\n", SOURCE ":1:10: invalid value \"512M\": strings must be in quotes");
    assert_error("memory = 0x\n", SOURCE ":1:10: invalid number \"0x\"");
    assert_error("enabled = yes\n", SOURCE ":1:11: invalid value \"yes\": strings must be in quotes");
    assert_error("enabled = FALSE\n",
                 SOURCE ":1:11: invalid value \"FALSE\": booleans are written true and false");
    assert_error("vcpus = 2.\n", SOURCE ":1:9: invalid number \"2.\"");
    assert_error("memory = 1_024_\n", SOURCE ":1:10: invalid number \"1_024_\"");
    assert_error("base = -0x1000\n",
                 SOURCE ":1:8: invalid number \"-0x1000\": hexadecimal, octal and binary integers take no sign");
}
END_TEST

/* Exact positions for each way of nesting too deep. */
START_TEST(nesting_messages)
{
    char *braces = repeat("{a=", 200), *arrays = repeat("[", 200), *dots = repeat("a.", 200),
         *header = repeat(".a", 200), *mixed = repeat("{a=[", 70), *text;
    const char *expect = " nesting too deep (more than 128 levels)";

#define DEEP(fmt, arg, pos)                                              \
    do {                                                                 \
        int code_ = -1;                                                  \
        char *want_ = g_strconcat(SOURCE ":" pos ":", expect, NULL);     \
        text = g_strdup_printf(fmt, arg);                                \
        char *msg_ = error_of(text, &code_);                             \
        ck_assert_msg(msg_, "accepted");                                 \
        ck_assert_str_eq(msg_, want_);                                   \
        ck_assert_int_eq(code_, VMM_TOML_ERROR_LIMIT);                   \
        g_free(msg_);                                                    \
        g_free(want_);                                                   \
        g_free(text);                                                    \
    } while (0)
    /* "x = " then 128 levels of 3 characters: the 129th opens at 389 */
    DEEP("x = %s\n", braces, "1:389");
    DEEP("x = %s\n", arrays, "1:133");
    DEEP("%sb = 1\n", dots, "1:1");
    DEEP("[a%s]\n", header, "1:258");
    DEEP("[[a%s]]\n", header, "1:259");
    DEEP("x = [%s\n", mixed, "1:261");
#undef DEEP
    g_free(braces);
    g_free(arrays);
    g_free(dots);
    g_free(header);
    g_free(mixed);
}
END_TEST

/* UTF-8 that g_utf8_validate would also refuse: surrogates, overlong
 * forms, beyond U+10FFFF, a lone continuation byte. */
START_TEST(bad_utf8)
{
    assert_error("a = \"\xed\xa0\x80\"\n", SOURCE ":1:6: invalid UTF-8 (byte 0xED) in a string");
    assert_error("a = \"\xc0\xaf\"\n", SOURCE ":1:6: invalid UTF-8 (byte 0xC0) in a string");
    assert_error("a = \"\"\"x\xf4\x90\x80\x80\"\"\"\n", SOURCE ":1:9: invalid UTF-8 (byte 0xF4) in a string");
    assert_error("\xfe = 1\n", SOURCE ":1:1: expected a key, found invalid UTF-8 (byte 0xFE)");
    assert_error("a = 'x\x80'\n", SOURCE ":1:7: invalid UTF-8 (byte 0x80) in a literal string");
}
END_TEST

static Suite *toml_suite(void)
{
    Suite *s = suite_create("toml");
    TCase *errors = tcase_create("errors"), *api = tcase_create("api");

    tcase_add_test(errors, duplicate_key);
    tcase_add_test(errors, unterminated_string);
    tcase_add_test(errors, newline_in_basic_string);
    tcase_add_test(errors, missing_equals);
    tcase_add_test(errors, missing_bracket);
    tcase_add_test(errors, bare_word_value);
    tcase_add_test(errors, table_redefined);
    tcase_add_test(errors, bad_escape);
    tcase_add_test(errors, inline_table);
    tcase_add_test(errors, missing_value);
    tcase_add_test(errors, encoding);
    tcase_add_test(errors, columns);
    tcase_add_test(errors, numbers);
    tcase_add_test(errors, nesting_limit);
    tcase_add_test(errors, trailing_garbage);
    tcase_add_test(errors, near_misses);
    tcase_add_test(errors, nesting_messages);
    tcase_add_test(errors, bad_utf8);
    suite_add_tcase(s, errors);

    tcase_add_test(api, getters_defaults);
    tcase_add_test(api, getters_type_errors);
    tcase_add_test(api, set_error);
    tcase_add_test(api, positions);
    tcase_add_test(api, tree);
    tcase_add_test(api, big_table);
    tcase_add_test(api, parse_file);
    tcase_add_test(api, parse_file_not_toml_not_quoted);
    tcase_add_test(api, valid_tables);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(toml_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
