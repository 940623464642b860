/*
 * The control socket without KVM: the stream splitter, the session (request
 * checks, negotiation, error classes, argument schema), the manager's state
 * machine and its guest-facing hooks on fake VMs, and the server over a
 * socketpair (framing, events after negotiation only, oversize, vanishing
 * clients).
 */
#include <check.h>
#include <glib-unix.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"
#include "vmm/policy.h"
#include "vmm/vm.h"

#include "../fake_backend.h"
#include "../../src/control/qmp/internal.h"
#include "unit.h"

/* --- splitter ------------------------------------------------------------ */

static GPtrArray *texts;

static void collect(const char *text, size_t len, void *opaque)
{
    g_ptr_array_add(texts, g_strndup(text, len));
}

static void split_all(const char *input, size_t chunk)
{
    struct qmp_splitter s;
    size_t len = strlen(input);

    if (texts)
        g_ptr_array_unref(texts);
    texts = g_ptr_array_new_with_free_func(g_free);
    qmp_splitter_init(&s);
    for (size_t off = 0; off < len; off += chunk)
        ck_assert(qmp_splitter_feed(&s, input + off, MIN(chunk, len - off), collect, NULL));
    qmp_splitter_clear(&s);
}

START_TEST(split_coalesced_and_split)
{
    const char *in = "{\"execute\":\"a\"}{\"execute\":\"b\",\"arguments\":{\"x\":[1,{}]}}"
                     "  \r\n{\"s\":\"} { \\\" \\\\\"}";

    /* Every chunk size gives the same texts: one byte at a time, and all at once. */
    for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
        split_all(in, chunk);
        ck_assert_uint_eq(texts->len, 3);
        ck_assert_str_eq(texts->pdata[0], "{\"execute\":\"a\"}");
        ck_assert_str_eq(texts->pdata[1], "{\"execute\":\"b\",\"arguments\":{\"x\":[1,{}]}}");
        ck_assert_str_eq(texts->pdata[2], "{\"s\":\"} { \\\" \\\\\"}");
    }
}
END_TEST

START_TEST(split_scalars_and_strays)
{
    split_all("42 \"str\" } true{\"a\":1}", 3);
    ck_assert_uint_eq(texts->len, 5);
    ck_assert_str_eq(texts->pdata[0], "42");
    ck_assert_str_eq(texts->pdata[1], "\"str\"");
    ck_assert_str_eq(texts->pdata[2], "}");
    ck_assert_str_eq(texts->pdata[3], "true");
    ck_assert_str_eq(texts->pdata[4], "{\"a\":1}");
}
END_TEST

START_TEST(split_limits)
{
    struct qmp_splitter s;
    GString *big = g_string_new("{\"a\":\"");
    GString *deep = g_string_new(NULL);

    texts = g_ptr_array_new_with_free_func(g_free);
    while (big->len <= QMP_MAX_MESSAGE)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    qmp_splitter_init(&s);
    ck_assert(!qmp_splitter_feed(&s, big->str, big->len, collect, NULL));
    qmp_splitter_clear(&s);

    for (unsigned i = 0; i <= QMP_MAX_DEPTH; i++)
        g_string_append_c(deep, '[');
    qmp_splitter_init(&s);
    ck_assert(!qmp_splitter_feed(&s, deep->str, deep->len, collect, NULL));
    qmp_splitter_clear(&s);

    /* Just under the limit is fine. */
    g_string_truncate(big, QMP_MAX_MESSAGE - 2);
    g_string_append(big, "\"}");
    qmp_splitter_init(&s);
    ck_assert(qmp_splitter_feed(&s, big->str, big->len, collect, NULL));
    ck_assert_uint_eq(texts->len, 1);
    qmp_splitter_clear(&s);
    g_string_free(big, TRUE);
    g_string_free(deep, TRUE);
}
END_TEST

static GPtrArray *events;

static void record_event(const struct manager_event *ev, void *opaque)
{
    g_ptr_array_add(events, qmp_event_from_manager(ev));
}

static void drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static bool saw_event(const char *needle)
{
    for (guint i = 0; i < events->len; i++)
        if (strstr(events->pdata[i], needle))
            return true;
    return false;
}

static struct manager m;

static void fake_setup(void)
{
    memset(&fake, 0, sizeof(fake));
    manager_init(&m, &fake_backend, NULL);
    events = g_ptr_array_new_with_free_func(g_free);
    m.on_event = record_event;
}

static void fake_teardown_all(void)
{
    drain();
    manager_clear(&m);
    g_ptr_array_unref(events);
}

static struct mvm *create(const char *name, const char *fw)
{
    struct vmm_config cfg;
    GError *err = NULL;
    struct mvm *mv;
    g_autofree char *text = g_strdup_printf("[vm]\nmemory = 16\nvcpus = 2\n[boot]\nfirmware = \"%s\"\n", fw);

    config_init(&cfg);
    ck_assert_msg(config_load_text(&cfg, text, "test", &err), "%s", err ? err->message : "");
    mv = manager_create(&m, name, &cfg, 0, &err);
    ck_assert_msg(mv, "%s", err ? err->message : "");
    config_clear(&cfg);
    return mv;
}

/* --- sessions --------------------------------------------------------------- */

static char *ask(struct qmp_session *s, const char *req)
{
    return qmp_session_handle(s, req, strlen(req));
}

#define expect_reply(s, req, want)                                                     \
    do {                                                                               \
        g_autofree char *got_ = ask((s), (req));                                       \
        ck_assert_msg(strstr(got_, (want)), "%s -> %s (wanted %s)", (req), got_, (want)); \
    } while (0)

START_TEST(session_negotiation)
{
    struct qmp_session s = { .manager = &m };
    g_autofree char *greeting = qmp_greeting();

    ck_assert_ptr_nonnull(strstr(greeting, "\"QMP\":{\"version\":{\"qemu\":{\"major\""));
    ck_assert_ptr_nonnull(strstr(greeting, "\"capabilities\":[]"));
    expect_reply(&s, "{\"execute\":\"query-vms\",\"id\":1}",
                 "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities");
    expect_reply(&s, "{\"execute\":\"query-version\"}", "CommandNotFound");
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}",
                 "Capability 'oob' not available");
    ck_assert(!s.negotiated);
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"id\":\"x\"}", "{\"return\":{},\"id\":\"x\"}");
    ck_assert(s.negotiated);
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\"}", "already complete");
    expect_reply(&s, "{\"execute\":\"query-vms\",\"id\":[1,{\"a\":null}]}",
                 "{\"return\":[],\"id\":[1,{\"a\":null}]}");
}
END_TEST

START_TEST(session_bad_requests)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };

    expect_reply(&s, "[1,2]", "QMP input must be a JSON object");
    expect_reply(&s, "42", "QMP input must be a JSON object");
    expect_reply(&s, "{\"execute\":", "JSON parse error");
    expect_reply(&s, "{\"id\":5}", "lacks member 'execute'\"},\"id\":5");
    expect_reply(&s, "{\"execute\":3}", "'execute' must be a string");
    expect_reply(&s, "{\"execute\":\"quit\",\"arguments\":[]}", "'arguments' must be an object");
    expect_reply(&s, "{\"execute\":\"quit\",\"extra\":1}", "member 'extra' is unexpected");
    expect_reply(&s, "{\"execute\":\"no-such\",\"id\":9}",
                 "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command no-such has not been found\"},\"id\":9}");
    /* Argument schema, before any handler runs. */
    expect_reply(&s, "{\"execute\":\"query-vms\",\"arguments\":{\"x\":1}}", "Parameter 'x' is unexpected");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":1}}",
                 "Invalid parameter type for 'vm', expected: string");
    expect_reply(&s, "{\"execute\":\"query-status\"}", "Parameter 'vm' is missing");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\"}}",
                 "Parameter 'config' is missing");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":5}}",
                 "expected: string or object");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"ghost\"}}",
                 "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"No VM named 'ghost'\"}}");
    ck_assert_uint_eq(fake.builds, 0);
}
END_TEST

/* A reply is one line of strict JSON (what json-glib alone cannot tell). */
static void assert_strict_line(const char *line)
{
    g_autoptr(GError) err = NULL;

    ck_assert_msg(!strpbrk(line, "\r\n"), "a line break in %s", line);
    ck_assert_msg(qmp_json_check(line, strlen(line), NULL, &err), "%s: %s", line,
                  err ? err->message : "");
}

/* Every id comes back exactly as sent (less the spaces between tokens). */
START_TEST(session_id_round_trip)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    static const char *const ids[] = {
        "0", "-1", "9007199254740992", "9223372036854775807", "-9223372036854775808",
        "1e17", "1.5", "-0", "1E-400", "\"x\"", "\"\\u00e9\\ud83d\\ude00\\n\"",
        "\"\\\\u0000\"" /* an escaped backslash, then u0000: no NUL */, "{}", "[]",
        "true", "false", "null", "{\"a\":[1.25e3,{\"b\":null}]}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *req = g_strdup_printf("{\"execute\":\"query-vms\",\"id\":%s}", ids[i]);
        g_autofree char *want = g_strdup_printf("{\"return\":[],\"id\":%s}", ids[i]);
        g_autofree char *got = ask(&s, req);
        g_autofree char *ereq = g_strdup_printf("{\"id\":%s,\"execute\":\"no-such\"}", ids[i]);
        g_autofree char *egot = ask(&s, ereq);
        g_autofree char *ewant = g_strdup_printf(",\"id\":%s}", ids[i]);

        ck_assert_str_eq(got, want);
        assert_strict_line(got);
        ck_assert_msg(g_str_has_suffix(egot, ewant), "%s -> %s", ereq, egot);
        assert_strict_line(egot);
    }
    expect_reply(&s, "{\"execute\":\"query-vms\",\"id\":[ 1 ,\n{ \"a b\" : \" x \" } ]}",
                 "{\"return\":[],\"id\":[1,{\"a b\":\" x \"}]}");
}
END_TEST

/* What json-glib would take but QMP must not: refused, and nothing runs. */
START_TEST(session_strict_json)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    static const char *const bad[] = {
        "{\"execute\":\"query-version\\u0000x\"}",
        "{\"execute\\u0000\":\"query-version\"}",
        "{\"execute\":\"query-version\",\"id\":\"a\\u0000\"}",
        "{'execute':'query-version'}",
        "{\"execute\":'query-version'}",
        "/**/{\"execute\":\"query-version\"}",
        "{\"execute\":\"query-version\",\"id\":0x10}",
        "{\"execute\":\"query-version\",\"id\":01}",
        "{\"execute\":\"query-version\",\"id\":.5}",
        "{\"execute\":\"query-version\",\"id\":1E400}",
        "{\"execute\":\"query-version\",\"id\":9223372036854775808}",
        "{\"execute\":\"query-version\",\"id\":-9223372036854775809}",
        "{\"execute\":\"query-version\",\"id\":99999999999999999999999}",
        "{\"execute\":\"query-version\",\"id\":\"\\udc00x\"}",
        "{\"execute\":\"query-version\",\"id\":\"\\ud800\"}",
        "{\"execute\":\"query-version\",\"id\":\"\t\"}",
        "{\"execute\":\"quit\",\"execute\":\"query-version\"}",
        "{\"execute\":\"query-version\",\"arguments\":{},}",
        "{\"execute\":\"query-version\"} x",
    };
    struct mvm *mv = create("a", "spin");

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *got = ask(&s, bad[i]);

        ck_assert_msg(g_str_has_prefix(got, "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                                            "\"JSON parse error"), "%s -> %s", bad[i], got);
        ck_assert_msg(!strstr(got, "\"id\""), "%s -> %s", bad[i], got);
        assert_strict_line(got);
    }
    ck_assert(!s.quit);
    /* NUL in an argument: never cut to the name of an existing VM. */
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\\u0000b\"}}",
                 "JSON parse error");
    expect_reply(&s, "{\"execute\":\"vm-destroy\",\"arguments\":{\"vm\":\"a\\u0000\"}}",
                 "JSON parse error");
    ck_assert_int_eq(mv->state, MVM_PRELAUNCH);
    ck_assert_uint_eq(m.vms->len, 1);
    /* Escapes that are not NUL are fine, also in names. */
    expect_reply(&s, "{\"execute\":\"query-st\\u0061tus\",\"arguments\":{\"vm\":\"\\u0061\"}}",
                 "\"status\":\"prelaunch\"");
    {
        const char raw[] = "{\"execute\":\"query-vms\\0\"}";
        g_autofree char *got = qmp_session_handle(&s, raw, sizeof(raw) - 1);

        ck_assert_msg(strstr(got, "JSON parse error"), "%s", got);
    }
}
END_TEST

START_TEST(session_commands)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    unsigned reads;

    expect_reply(&s, "{\"execute\":\"query-commands\"}", "{\"name\":\"query-hypercall-stats\"}");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":"
                     "{\"vm\":{\"memory\":\"16M\",\"vcpus\":2},\"boot\":{\"firmware\":\"spin\"}}}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":"
                     "{\"boot\":{\"firmware\":\"spin\"}}}}", "exists already");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"b\",\"config\":"
                     "{\"vm\":{\"vcpus\":\"two\"},\"boot\":{\"firmware\":\"spin\"}}}}",
                 "vm.vcpus: expected an integer");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"c\",\"config\":"
                     "{\"boot\":{\"firmware\":\"spin\"},\"nope\":{}}}}", "unknown section");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"return\":{\"running\":false,\"status\":\"prelaunch\"}}");
    expect_reply(&s, "{\"execute\":\"query-vm\",\"arguments\":{\"vm\":\"a\"}}", "\"vcpus\":2");
    expect_reply(&s, "{\"execute\":\"query-vm\",\"arguments\":{\"vm\":\"a\"}}", "\"memory\":16777216");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"role\":\"restricted\",\"flags\":[]");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"service\","
                     "\"flags\":[\"info\",\"ucall\"],\"services\":{\"vendor-hyp\":[\"vmm-info\"]}}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"role\":\"service\",\"flags\":[\"info\",\"ucall\"]");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"vendor-hyp\":[\"vmm-info\"]");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"flags\":[\"root\"]}}",
                 "unknown name 'root'");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"god\"}}",
                 "'role' must be");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"services\":{\"x\":[]}}}",
                 "unknown owner 'x'");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "is prelaunch: stop needs it running");
    expect_reply(&s, "{\"execute\":\"vm-start\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"VM_STARTED\",\"data\":{\"vm\":\"a\",\"id\":1}"));
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"running\":true,\"status\":\"running\"}");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"restricted\"}}",
                 "its policy is fixed once it has run");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert_uint_eq(fake.pauses, 1);
    ck_assert(saw_event("\"event\":\"STOP\""));
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}", "\"status\":\"paused\"");
    expect_reply(&s, "{\"execute\":\"cont\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"RESUME\""));
    expect_reply(&s, "{\"execute\":\"system_powerdown\",\"arguments\":{\"vm\":\"a\"}}", "no power button");
    expect_reply(&s, "{\"execute\":\"system_reset\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    drain(); /* the old build's stop report must be ignored */
    ck_assert(!saw_event("SHUTDOWN"));
    ck_assert(saw_event("\"event\":\"RESET\",\"data\":{\"vm\":\"a\",\"id\":1,\"guest\":false"));
    ck_assert_uint_eq(fake.builds, 2);
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}", "\"status\":\"running\"");
    reads = fake.stats_reads;
    expect_reply(&s, "{\"execute\":\"query-hypercall-stats\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"call\":\"unknown\",\"total\":0");
    /* one read of the counters per query (a round trip with workers) */
    ck_assert_uint_eq(fake.stats_reads, reads + 1);
    expect_reply(&s, "{\"execute\":\"vm-destroy\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"VM_DESTROYED\""));
    expect_reply(&s, "{\"execute\":\"query-vms\"}", "{\"return\":[]}");
    ck_assert(!s.quit);
    expect_reply(&s, "{\"execute\":\"quit\"}", "{\"return\":{}}");
    ck_assert(s.quit);
}
END_TEST

START_TEST(events_have_timestamps)
{
    JsonObject *data = json_object_new();
    g_autofree char *line = NULL;

    json_object_set_string_member(data, "vm", "a");
    json_object_set_int_member(data, "id", 1);
    line = qmp_event_line("STOP", data);
    ck_assert_ptr_nonnull(strstr(line, "{\"event\":\"STOP\",\"data\":{\"vm\":\"a\",\"id\":1},"
                                       "\"timestamp\":{\"seconds\":"));
    ck_assert_ptr_nonnull(strstr(line, "\"microseconds\":"));
    ck_assert_ptr_null(strchr(line, '\n'));
}
END_TEST

/* Every argument is checked against the schema before any handler runs:
 * "ghost" names no VM, so a handler that ran would answer DeviceNotFound. */
START_TEST(session_schema_checks)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    static const struct { const char *req, *want; } cases[] = {
        /* monitor-calls: integers and their ranges, missing, unknown */
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":\"1\",\"last\":2}",
          "Invalid parameter type for 'first', expected: integer" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":1.0,\"last\":2}",
          "Invalid parameter type for 'first', expected: integer" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":-1,\"last\":2}",
          "'first' must be 0 to 4294967295" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0,\"last\":4294967296}",
          "'last' must be 0 to 4294967295" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0,\"last\":1,\"timeout-ms\":0}",
          "'timeout-ms' must be 1 to 600000" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0,\"last\":1,"
          "\"timeout-ms\":600001}", "'timeout-ms' must be 1 to 600000" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0}",
          "Parameter 'last' is missing" },
        { "monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0,\"last\":1,\"step\":1}",
          "Parameter 'step' is unexpected" },
        { "monitor-calls\",\"arguments\":{\"vm\":[\"ghost\"],\"first\":0,\"last\":1}",
          "Invalid parameter type for 'vm', expected: string" },
        /* call-return: array elements and length */
        { "call-return\",\"arguments\":{\"token\":-1}", "'token' must be 0 to 9223372036854775807" },
        { "call-return\",\"arguments\":{\"token\":1,\"results\":5}",
          "Invalid parameter type for 'results', expected: array of integers" },
        { "call-return\",\"arguments\":{\"token\":1,\"results\":[1,\"2\"]}",
          "Invalid parameter type for 'results', expected: array of integers" },
        { "call-return\",\"arguments\":{\"token\":1,\"results\":[1,[2]]}",
          "Invalid parameter type for 'results', expected: array of integers" },
        { "call-return\",\"arguments\":{\"token\":1,\"results\":[1,2,3,4,5]}",
          "'results': at most 4 values" },
        { "call-return\",\"arguments\":{\"results\":[]}", "Parameter 'token' is missing" },
        { "call-return\",\"arguments\":{\"token\":true}",
          "Invalid parameter type for 'token', expected: integer" },
        /* set-policy: enums, element types, nested members */
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"role\":5}",
          "Invalid parameter type for 'role', expected: string" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"role\":\"god\"}",
          "'role' must be \\\"service\\\" or \\\"restricted\\\", not \\\"god\\\"" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"flags\":\"info\"}",
          "Invalid parameter type for 'flags', expected: array of strings" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"flags\":[\"info\",1]}",
          "Invalid parameter type for 'flags', expected: array of strings" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"flags\":[\"info\",\"root\"]}",
          "'flags': unknown name 'root' (known: info, console, ucall)" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"services\":[]}",
          "Invalid parameter type for 'services', expected: object" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"services\":{\"standard\":\"trng\"}}",
          "Invalid parameter type for 'services.standard', expected: array of strings" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"services\":{\"vendor-hyp\":[null]}}",
          "Invalid parameter type for 'services.vendor-hyp', expected: array of strings" },
        { "set-policy\",\"arguments\":{\"vm\":\"ghost\",\"services\":{\"x\":[]}}",
          "'services': unknown owner 'x' (known: standard, standard-hyp, vendor-hyp)" },
        /* vm-create: lengths, booleans */
        { "vm-create\",\"arguments\":{\"name\":\"a\",\"config\":{},\"start\":\"yes\"}",
          "Invalid parameter type for 'start', expected: boolean" },
        { "vm-create\",\"arguments\":{\"name\":5,\"config\":{}}",
          "Invalid parameter type for 'name', expected: string" },
        { "vm-create\",\"arguments\":{\"name\":"
          "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"config\":{}}",
          "'name' must be at most 64 bytes" },
        { "vm-create\",\"arguments\":{\"config\":{}}", "Parameter 'name' is missing" },
        { "vm-create\",\"arguments\":{\"name\":\"a\",\"config\":{},\"vm\":\"a\"}",
          "Parameter 'vm' is unexpected" },
        /* commands without arguments, and qmp_capabilities */
        { "query-vms\",\"arguments\":{\"vm\":\"a\"}", "Parameter 'vm' is unexpected" },
        { "quit\",\"arguments\":{\"now\":true}", "Parameter 'now' is unexpected" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *req = g_strdup_printf("{\"execute\":\"%s}", cases[i].req);
        g_autofree char *want = g_strdup_printf(
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"%s\"}}", cases[i].want);
        g_autofree char *got = ask(&s, req);

        ck_assert_msg(!strcmp(got, want), "%s -> %s (wanted %s)", req, got, want);
    }
    ck_assert_uint_eq(fake.builds, 0);
    ck_assert_uint_eq(m.vms->len, 0);
    ck_assert(!s.quit);
    /* A valid request reaches its handler: the same shapes, one fixed. */
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"ghost\",\"first\":0,"
                     "\"last\":4294967295,\"timeout-ms\":600000}}", "No VM named 'ghost'");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"ghost\","
                     "\"role\":\"service\",\"flags\":[],\"services\":{\"standard\":[]}}}",
                 "No VM named 'ghost'");
    expect_reply(&s, "{\"execute\":\"call-return\",\"arguments\":{\"token\":0,"
                     "\"results\":[-1,2,3,4]}}", "No call with token 0");
}
END_TEST

/* Before negotiation, qmp_capabilities' own arguments are checked too. */
START_TEST(session_schema_before_negotiation)
{
    struct qmp_session s = { .manager = &m };

    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":\"oob\"}}",
                 "Invalid parameter type for 'enable', expected: array of strings");
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[1]}}",
                 "Invalid parameter type for 'enable', expected: array of strings");
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"oob\":true}}",
                 "Parameter 'oob' is unexpected");
    ck_assert(!s.negotiated);
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[]}}",
                 "{\"return\":{}}");
    ck_assert(s.negotiated);
}
END_TEST

/* The schema, the handlers and what query-commands/query-events list agree. */
START_TEST(schema_is_whole)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    g_autofree char *cmds = ask(&s, "{\"execute\":\"query-commands\"}");
    g_autofree char *evs = ask(&s, "{\"execute\":\"query-events\"}");

    ck_assert_uint_eq(qmp_handlers_len, qmp_schema_commands_len);
    for (size_t i = 0; i < qmp_schema_commands_len; i++) {
        const char *name = qmp_schema_commands[i].name;
        g_autofree char *entry = g_strdup_printf("{\"name\":\"%s\"}", name);
        unsigned handlers = 0;

        for (size_t j = 0; j < qmp_handlers_len; j++)
            handlers += !strcmp(qmp_handlers[j].name, name);
        ck_assert_msg(handlers == 1, "%s: %u handlers", name, handlers);
        ck_assert_ptr_eq(qmp_schema_command(name), &qmp_schema_commands[i]);
        ck_assert_msg(strstr(cmds, entry), "query-commands lacks %s: %s", name, cmds);
        ck_assert_ptr_nonnull(qmp_schema_commands[i].doc);
        ck_assert_ptr_nonnull(qmp_schema_commands[i].returns);
    }
    for (size_t i = 0; i < qmp_schema_events_len; i++) {
        g_autofree char *entry = g_strdup_printf("{\"name\":\"%s\"}", qmp_schema_events[i].name);

        ck_assert_ptr_eq(qmp_schema_event(qmp_schema_events[i].name), &qmp_schema_events[i]);
        ck_assert_msg(strstr(evs, entry), "query-events lacks %s: %s", entry, evs);
    }
    /* set-policy's service owners are the policy's. */
    {
        const struct qmp_member *svc =
            qmp_schema_arg(qmp_schema_command("set-policy"), "services");
        int n = 0;

        for (const struct qmp_member *o = svc->members; o->name; o++, n++)
            ck_assert_str_eq(o->name, service_owner_names[n]);
        ck_assert_int_eq(n, SVC_OWNER_COUNT);
    }
}
END_TEST

static JsonObject *event_data(const char *json)
{
    g_autoptr(JsonParser) p = json_parser_new();

    ck_assert(json_parser_load_from_data(p, json, -1, NULL));
    return json_object_ref(json_node_get_object(json_parser_get_root(p)));
}

/* An event's data must be as declared; qmp_event_line() aborts if not. */
START_TEST(events_checked_against_schema)
{
    static const struct { const char *name, *data, *want; } cases[] = {
        { "STOP", "{\"vm\":\"a\",\"id\":1}", NULL },
        { "NO_SUCH", "{\"vm\":\"a\",\"id\":1}", "event NO_SUCH is not declared" },
        { "STOP", "{\"vm\":\"a\"}", "event STOP: Parameter 'id' is missing" },
        { "STOP", "{\"vm\":\"a\",\"id\":1,\"why\":\"x\"}", "Parameter 'why' is unexpected" },
        { "STOP", "{\"vm\":1,\"id\":1}", "Invalid parameter type for 'vm', expected: string" },
        { "SHUTDOWN", "{\"vm\":\"a\",\"id\":1,\"guest\":true,\"reason\":\"guest-exit\"}",
          "Parameter 'status' is missing" },
        { "GUEST_CALL", "{\"vm\":\"a\",\"id\":1,\"vcpu\":0,\"conduit\":\"pigeon\",\"call\":1,"
                        "\"args\":[0,0,0,0],\"token\":1}", "'conduit' must be" },
        { "GUEST_CALL", "{\"vm\":\"a\",\"id\":1,\"vcpu\":0,\"conduit\":\"hvc\",\"call\":1,"
                        "\"args\":[0,0,0,0,0],\"token\":1}", "'args': at most 4 values" },
        { "GUEST_CALL", "{\"vm\":\"a\",\"id\":1,\"vcpu\":0,\"conduit\":\"hvc\",\"call\":1,"
                        "\"args\":[0,-1,0,0],\"token\":1}", NULL },
        { "HYPERCALL_DENIED", "{\"vm\":\"a\",\"id\":1,\"vcpu\":0,\"call\":1,\"call-name\":\"x\","
                              "\"reason\":\"maybe\"}", "'reason' must be" },
        { "GUEST_CRASHED", "{\"vm\":\"a\",\"id\":1,\"action\":\"shutdown\"}", NULL },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonObject) data = event_data(cases[i].data);
        g_autoptr(GError) err = NULL;
        bool ok = qmp_event_data_check(cases[i].name, data, &err);

        if (!cases[i].want)
            ck_assert_msg(ok, "%s %s: %s", cases[i].name, cases[i].data, err->message);
        else
            ck_assert_msg(!ok && strstr(err->message, cases[i].want), "%s %s -> %s",
                          cases[i].name, cases[i].data, ok ? "accepted" : err->message);
    }
}
END_TEST

/* Every manager notification becomes an event as declared (else the
 * check in qmp_event_line() would abort), with and without its optional
 * members. */
START_TEST(events_from_manager_are_declared)
{
    static const manager_event_kind kinds[] = {
        MEV_VM_STARTED, MEV_STOP, MEV_RESUME, MEV_VM_DESTROYED, MEV_RESET, MEV_SHUTDOWN,
        MEV_GUEST_CRASHED, MEV_HYPERCALL_DENIED, MEV_GUEST_CALL,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        struct manager_event ev = {
            .kind = kinds[i], .vm = "a", .id = 3, .reason = "no-calls", .status = 143,
            .message = i % 2 ? "regs" : NULL, .vcpu = 1, .call = 0xc6000000,
            .conduit = "ucall", .args = { 1, G_MAXUINT64, 0, 0 }, .token = 9,
        };
        g_autofree char *line = qmp_event_from_manager(&ev);

        ck_assert_msg(strstr(line, "\"data\":{\"vm\":\"a\",\"id\":3"), "%s", line);
    }
}
END_TEST

/* --- manager ---------------------------------------------------------------- */

START_TEST(manager_guest_stop_is_shutdown)
{
    struct mvm *mv = create("g", "spin");
    GError *err = NULL;

    ck_assert(manager_start(&m, "g", &err));
    fake_vm_stop(mv, VM_STOP_GUEST_EXIT, 7, NULL, true);
    drain();
    ck_assert_int_eq(mv->state, MVM_SHUTDOWN);
    ck_assert_int_eq(mv->exit_status, 7);
    ck_assert(saw_event("\"event\":\"SHUTDOWN\",\"data\":{\"vm\":\"g\",\"id\":1,\"guest\":true,"
                        "\"reason\":\"guest-exit\",\"status\":7}"));
    ck_assert(!manager_pause(&m, "g", &err));
    ck_assert_int_eq(err->code, MANAGER_ERROR_STATE);
    g_clear_error(&err);
    /* A reset runs a shut-down VM again. */
    ck_assert(manager_reset(&m, "g", &err));
    ck_assert_int_eq(mv->state, MVM_RUNNING);
    ck_assert(!mv->stopped);
}
END_TEST

START_TEST(manager_crash_event)
{
    struct mvm *mv = create("c", "spin");

    ck_assert(manager_start(&m, "c", NULL));
    fake_vm_stop(mv, VM_STOP_CRASH, 120, "guest crashed: triple fault rip=0x1000", true);
    drain();
    ck_assert(saw_event("\"event\":\"GUEST_CRASHED\""));
    ck_assert(saw_event("rip=0x1000"));
    ck_assert(saw_event("\"reason\":\"guest-crash\",\"status\":120"));
}
END_TEST

START_TEST(manager_build_failure_leaves_nothing)
{
    struct vmm_config cfg;
    GError *err = NULL;

    config_init(&cfg);
    ck_assert(config_load_text(&cfg, "[boot]\nfirmware = \"spin\"\n", "t", &err));
    fake.fail_build = true;
    ck_assert_ptr_null(manager_create(&m, "x", &cfg, 0, &err));
    ck_assert_str_eq(err->message, "fake build failure");
    g_clear_error(&err);
    ck_assert_uint_eq(m.vms->len, 0);
    ck_assert_ptr_null(manager_create(&m, "bad name", &cfg, 0, &err));
    g_clear_error(&err);
    config_clear(&cfg);
}
END_TEST

/* Guest management calls arrive on a vCPU thread and wait for the main
 * context: run them on a thread while this one iterates the context. */
struct guest_op {
    struct mvm_ref *caller;
    manager_host_op op;
    uint64_t arg, out[2];
    int r;
    bool done;
};

static gpointer guest_thread(gpointer data)
{
    struct guest_op *g = data;

    g->r = manager_host_call(g->caller, g->op, g->arg, g->out);
    __atomic_store_n(&g->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static int guest_call(struct mvm *caller, manager_host_op op, uint64_t arg, uint64_t *out0,
                      uint64_t *out1)
{
    struct guest_op g = { .caller = caller->build_ref, .op = op, .arg = arg };
    GThread *t = g_thread_new("guest", guest_thread, &g);

    while (!__atomic_load_n(&g.done, __ATOMIC_ACQUIRE))
        g_main_context_iteration(NULL, FALSE);
    g_thread_join(t);
    drain();
    if (out0)
        *out0 = g.out[0];
    if (out1)
        *out1 = g.out[1];
    return g.r;
}

static char *write_image_config(const char *dir, const char *name, unsigned mib)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strdup_printf("[vm]\nmemory = %u\n[boot]\nfirmware = \"spin\"\n"
                                            "[policy]\nrole = \"service\"\n", mib);

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

START_TEST(manager_guest_calls)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-qmp-XXXXXX", NULL);
    g_autofree char *small = write_image_config(dir, "small.toml", 16);
    g_autofree char *big = write_image_config(dir, "big.toml", 64);
    struct mvm *svc, *host_vm, *child;
    uint64_t id = 0, state, status;

    ck_assert(manager_add_image(&m, "small", small, NULL));
    ck_assert(manager_add_image(&m, "big", big, NULL));
    m.quota = (struct manager_quota){ .vms = 2, .memory = 40ULL << 20, .vcpus = 4 };
    svc = create("svc", "spin");
    host_vm = create("host-made", "spin");
    svc->policy.role = VM_ROLE_SERVICE;
    ck_assert(manager_start(&m, "svc", NULL));

    ck_assert_int_eq(guest_call(svc, 0, 7, NULL, NULL), -ENOENT);      /* no image 7 */
    ck_assert_int_eq(guest_call(svc, 0, 1, NULL, NULL), -EDQUOT);      /* 64 MiB > 40 */
    ck_assert_int_eq(guest_call(svc, 0, 0, &id, NULL), 0);
    child = manager_find_id(&m, id);
    ck_assert_ptr_nonnull(child);
    ck_assert_str_eq(child->name, "small-3");
    /* A service guest starts restricted VMs only, and owns them. */
    ck_assert_int_eq(child->policy.role, VM_ROLE_RESTRICTED);
    ck_assert(child->policy.manageable);
    ck_assert_uint_eq(child->owner, svc->id);
    ck_assert_int_eq(guest_call(svc, 0, 0, &id, NULL), 0);             /* 32 MiB of 40 */
    ck_assert_int_eq(guest_call(svc, 0, 0, NULL, NULL), -EDQUOT);      /* 3 VMs > 2 */

    /* Not its own: the host's VM, itself, nothing. */
    ck_assert_int_eq(guest_call(svc, 1, host_vm->id, NULL, NULL), -EPERM);
    ck_assert_int_eq(guest_call(svc, 3, svc->id, NULL, NULL), -EPERM);
    ck_assert_int_eq(guest_call(svc, 4, 999, NULL, NULL), -ENOENT);

    ck_assert_int_eq(guest_call(svc, 4, child->id, &state, &status), 0);
    ck_assert_uint_eq(state, GUEST_VM_PRELAUNCH);
    ck_assert_int_eq(guest_call(svc, 1, child->id, NULL, NULL), 0);
    ck_assert_int_eq(child->state, MVM_RUNNING);
    ck_assert_int_eq(guest_call(svc, 1, child->id, NULL, NULL), -EBUSY);
    ck_assert_int_eq(guest_call(svc, 2, child->id, NULL, NULL), 0);
    ck_assert_int_eq(guest_call(svc, 4, child->id, &state, &status), 0);
    ck_assert_uint_eq(state, GUEST_VM_SHUTDOWN);
    ck_assert_uint_eq(status, 143);
    ck_assert_int_eq(guest_call(svc, 3, child->id, NULL, NULL), 0);
    ck_assert_ptr_null(manager_find_id(&m, 3));
    ck_assert(saw_event("\"event\":\"VM_DESTROYED\",\"data\":{\"vm\":\"small-3\""));

    /* A refused call becomes an event on the main context. */
    manager_call_refused(host_vm->build_ref, 1, 0xc6001020U, "service-only");
    drain();
    ck_assert(saw_event("\"event\":\"HYPERCALL_DENIED\",\"data\":{\"vm\":\"host-made\",\"id\":2,"
                        "\"vcpu\":1,\"call\":3321892896,\"call-name\":"));
    unlink(small);
    unlink(big);
    rmdir(dir);
}
END_TEST

/* A main loop that never answers costs the guest an error, not a hang. */
START_TEST(manager_host_call_bounded)
{
    struct mvm *svc = create("svc", "spin");
    struct guest_op g = { .op = 4, .arg = 1 };
    GThread *t;

    m.host_call_timeout_ms = 50;
    g.caller = svc->build_ref;
    t = g_thread_new("guest", guest_thread, &g);
    g_thread_join(t); /* nobody iterates the context meanwhile */
    ck_assert_int_eq(g.r, -ETIMEDOUT);
    ck_assert_uint_eq(fake_vm_blocked(svc), 0);
}
END_TEST

/* --- calls forwarded to a monitor -------------------------------------------- */

/*
 * The guest side of a managed VM as the KVM backend wires it: a struct vm
 * whose calls go through the dispatcher (the policy decides first), then
 * the KVM backend's hooks (manager_kvm_host_ops), to the manager and its
 * fake VM. Only what the dispatcher reads: no KVM.
 */
static struct vm guest;

static void guest_attach(struct mvm *mv)
{
    memset(&guest, 0, sizeof(guest));
    guest.name = mv->name;
    guest.id = mv->id;
    guest.calls = vm_calls_new();
    guest.calls->policy = mv->policy; /* as vm_set_policy() at the start */
    guest.calls->host = &manager_kvm_host_ops;
    guest.calls->host_data = mv->build_ref;
}

static void guest_detach(void)
{
    g_clear_pointer(&guest.calls, vm_calls_free);
}

struct dispatch_op {
    struct vcpu vcpu;
    struct guest_call call;
    call_status status;
    call_verdict verdict;
    bool done;
};

static gpointer dispatch_thread(gpointer data)
{
    struct dispatch_op *d = data;

    d->verdict = call_dispatch(&d->vcpu, &d->call, &d->status);
    __atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
    return NULL;
}

/* Hands out a1 = 7 only when asked, as the aarch64 conduit reads its
 * registers: a monitor's event shows it only if the manager asks. */
static bool read_args_on_demand(struct guest_call *call, unsigned n)
{
    for (unsigned i = call->nr_args_read; i < n; i++)
        call->args[i] = i == 0 ? 7 : 0;
    return true;
}

static GThread *dispatch_start(struct dispatch_op *d, uint32_t id)
{
    memset(d, 0, sizeof(*d));
    d->vcpu.vm = &guest;
    d->vcpu.id = 0;
    d->call.id = id;
    d->call.read_args = read_args_on_demand;
    d->call.conduit = CONDUIT_HVC;
    return g_thread_new("vcpu", dispatch_thread, d);
}

/* Iterates the main context until @d is done or an event holding @needle
 * has been recorded. */
static void run_until(struct dispatch_op *d, const char *needle)
{
    while (!__atomic_load_n(&d->done, __ATOMIC_ACQUIRE) && !(needle && saw_event(needle)))
        g_main_context_iteration(NULL, FALSE);
}

static uint64_t last_token(void)
{
    const char *e = strstr(events->pdata[events->len - 1], "\"token\":");

    ck_assert_ptr_nonnull(e);
    return g_ascii_strtoull(e + 8, NULL, 10);
}

START_TEST(monitor_answers_then_times_out)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    struct mvm *mv = create("v", "spin");
    struct dispatch_op d;
    GThread *t;
    uint64_t res[4] = { 0x4242, 1, 2, 3 };
    GError *err = NULL;

    /* "v" is answered (a bound far beyond any load on the test machine);
     * "w" is never answered (a short bound). */
    struct mvm *mw = create("w", "spin");

    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":3321892864,\"last\":3321892864,\"timeout-ms\":600000}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"w\","
                     "\"first\":3321892864,\"last\":3321892864,\"timeout-ms\":100}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":3321892860,\"last\":3321892870}}", "claimed already");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":5,\"last\":4}}", "above 'last'");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":-1,\"last\":4}}", "'first' must be 0 to 4294967295");

    /* Not allowed by the policy (no "info" flag): the monitor never hears of it. */
    ck_assert(manager_start(&m, "v", NULL));
    guest_attach(mv);
    t = dispatch_start(&d, 0xc6001000U);
    g_thread_join(t);
    drain();
    ck_assert_int_ne(d.verdict, CALL_ALLOWED);
    ck_assert(!saw_event("GUEST_CALL"));
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":1,\"last\":2}}", "only before it first runs");

    /* Allowed: the monitor answers. */
    guest.calls->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&guest.calls->policy);
    t = dispatch_start(&d, 0xc6001000U);
    run_until(&d, "GUEST_CALL");
    ck_assert(!__atomic_load_n(&d.done, __ATOMIC_ACQUIRE)); /* it waits */
    ck_assert(saw_event("\"event\":\"GUEST_CALL\",\"data\":{\"vm\":\"v\",\"id\":1,\"vcpu\":0,"
                        "\"conduit\":\"hvc\",\"call\":3321892864,\"args\":[7,0,0,0],\"token\":"));
    ck_assert(!manager_call_return(&m, &d, last_token(), res, 4, &err)); /* not its monitor */
    g_clear_error(&err);
    ck_assert(manager_call_return(&m, &s, last_token(), res, 4, &err));
    g_thread_join(t);
    ck_assert_int_eq(d.verdict, CALL_ALLOWED);
    ck_assert_int_eq(d.status, CALL_OK);
    ck_assert_uint_eq(d.call.ret[0], 0x4242);
    ck_assert_uint_eq(d.call.ret[3], 3);
    ck_assert(!manager_call_return(&m, &s, last_token(), res, 4, &err)); /* answered already */
    g_clear_error(&err);

    /* Unanswered: refused after the bound, and later calls at once. */
    ck_assert(manager_start(&m, "w", NULL));
    ck_assert_uint_eq(fake_vm_blocked(mv), 0);
    guest_detach();
    guest_attach(mw);
    guest.calls->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&guest.calls->policy);
    mv = mw;
    g_ptr_array_set_size(events, 0);
    t = dispatch_start(&d, 0xc6001000U);
    run_until(&d, NULL);
    g_thread_join(t);
    ck_assert(saw_event("GUEST_CALL"));
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    g_ptr_array_set_size(events, 0);
    t = dispatch_start(&d, 0xc6001000U);
    g_thread_join(t);
    drain();
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    ck_assert(!saw_event("GUEST_CALL"));
    /* Other calls are not the monitor's. */
    t = dispatch_start(&d, 0xc6001002U); /* whoami */
    g_thread_join(t);
    ck_assert_int_eq(d.status, CALL_OK);
    ck_assert_uint_eq(fake_vm_blocked(mv), 0);
    guest_detach();
}
END_TEST

START_TEST(monitor_gone_refuses_pending)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    struct mvm *mv = create("w", "spin");
    struct dispatch_op d;
    GThread *t;

    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"w\","
                     "\"first\":3321892864,\"last\":3321892865,\"timeout-ms\":600000}}", "{\"return\":{}}");
    mv->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&mv->policy);
    ck_assert(manager_start(&m, "w", NULL));
    guest_attach(mv);
    t = dispatch_start(&d, 0xc6001000U);
    run_until(&d, "GUEST_CALL");
    manager_monitor_gone(&m, &s);
    g_thread_join(t);
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    ck_assert_uint_eq(fake_vm_blocked(mv), 0);
    guest_detach();
}
END_TEST

/* A stop of the VM (another vCPU's guest exit, say) ends a vCPU's wait for
 * its monitor at once, not at the claim's bound (10 minutes here), and the
 * claim stays alive: the monitor was not too slow. */
START_TEST(monitor_wait_ends_at_stop)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    struct mvm *mv = create("x", "spin");
    gint64 t0 = g_get_monotonic_time();
    struct dispatch_op d;
    GThread *t;

    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"x\","
                     "\"first\":3321892864,\"last\":3321892864,\"timeout-ms\":600000}}",
                 "{\"return\":{}}");
    mv->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&mv->policy);
    ck_assert(manager_start(&m, "x", NULL));
    guest_attach(mv);
    t = dispatch_start(&d, 0xc6001000U);
    run_until(&d, "GUEST_CALL");
    fake_vm_stop(mv, VM_STOP_GUEST_EXIT, 0, NULL, false);
    g_thread_join(t);
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 60 * G_TIME_SPAN_SECOND);
    ck_assert_int_eq(g_array_index(mv->claims, struct manager_claim, 0).dead, 0);
    ck_assert_uint_eq(fake_vm_blocked(mv), 0);
    guest_detach();
}
END_TEST

/* --- server over a socketpair ------------------------------------------------ */

static char *read_line(int fd)
{
    GString *s = g_string_new(NULL);
    char c;

    for (;;) {
        ssize_t n;

        drain();
        n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 1) {
            g_string_append_c(s, c);
            if (c == '\n')
                break;
        } else if (n == 0) {
            break;
        } else if (errno != EAGAIN) {
            break;
        } else {
            g_main_context_iteration(NULL, TRUE);
        }
    }
    return g_string_free(s, FALSE);
}

static void send_str(int fd, const char *s)
{
    ck_assert_int_eq(send(fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

/* A line from @fd, while only @ctx runs (at most 5 s). */
static char *read_line_on(GMainContext *ctx, int fd)
{
    GString *s = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    char c;

    while (g_get_monotonic_time() < deadline) {
        ssize_t n;

        while (g_main_context_iteration(ctx, FALSE))
            ;
        n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 1) {
            g_string_append_c(s, c);
            if (c == '\n')
                break;
        } else if (n == 0 || errno != EAGAIN) {
            break;
        } else {
            g_usleep(1000);
        }
    }
    return g_string_free(s, FALSE);
}

/* The server runs on its manager's main context, as manager.h says, not
 * on GLib's default one: with only that context running, a client is
 * answered, and the default context holds nothing of the server's. */
START_TEST(server_on_managers_context)
{
    GMainContext *ctx = g_main_context_new();
    struct manager own;
    struct qmp_server *srv;
    g_autofree char *greeting = NULL, *reply = NULL;
    int a[2];

    /* Earlier tests' leftovers on the default context are not the
     * server's (they share one process under CK_FORK=no, as in the TSan
     * leg). */
    drain();
    manager_init(&own, &fake_backend, ctx);
    srv = qmp_server_new(&own, NULL, NULL);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    qmp_server_add_client(srv, a[1]);
    greeting = read_line_on(ctx, a[0]);
    ck_assert_msg(strstr(greeting, "\"QMP\""), "greeting: %s", greeting);
    send_str(a[0], "{\"execute\":\"qmp_capabilities\",\"id\":1}");
    reply = read_line_on(ctx, a[0]);
    ck_assert_str_eq(reply, "{\"return\":{},\"id\":1}\r\n");
    ck_assert(!g_main_context_pending(NULL));
    qmp_server_free(srv);
    manager_clear(&own);
    close(a[0]);
    g_main_context_unref(ctx);
}
END_TEST

START_TEST(server_framing_and_events)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a[2], b[2];
    g_autofree char *g1 = NULL, *g2 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *e1 = NULL;
    g_autofree char *r4 = NULL;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    qmp_server_add_client(srv, a[1]);
    qmp_server_add_client(srv, b[1]);
    g1 = read_line(a[0]);
    g2 = read_line(b[0]);
    ck_assert(g_str_has_prefix(g1, "{\"QMP\":"));
    ck_assert(g_str_has_suffix(g1, "}\r\n"));
    /* Split across writes, two in one. */
    send_str(a[0], "{\"execute\":\"qmp_capa");
    drain();
    send_str(a[0], "bilities\"}{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"v\","
                   "\"config\":{\"boot\":{\"firmware\":\"spin\"}}},\"id\":2}");
    r1 = read_line(a[0]);
    r2 = read_line(a[0]);
    ck_assert_str_eq(r1, "{\"return\":{}}\r\n");
    ck_assert_str_eq(r2, "{\"return\":{},\"id\":2}\r\n");
    send_str(a[0], "{\"execute\":\"vm-start\",\"arguments\":{\"vm\":\"v\"}}");
    r3 = read_line(a[0]);
    e1 = read_line(a[0]);
    /* The reply, then the event: or the other way round; both lines. */
    ck_assert(strstr(r3, "VM_STARTED") || strstr(e1, "VM_STARTED"));
    /* b never negotiated: no event reached it; its next line is a reply. */
    send_str(b[0], "{\"execute\":\"query-vms\"}");
    r4 = read_line(b[0]);
    ck_assert_msg(strstr(r4, "CommandNotFound"), "%s", r4);
    ck_assert_uint_eq(qmp_server_client_count(srv), 2);

    /* A client vanishing mid-command leaves the server and the other. */
    send_str(b[0], "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-vms\"");
    close(b[0]);
    drain();
    g_main_context_iteration(NULL, FALSE);
    drain();
    ck_assert_uint_eq(qmp_server_client_count(srv), 1);
    close(a[0]);
    drain();
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);
    qmp_server_free(srv);
}
END_TEST

START_TEST(server_oversize_closes)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a[2];
    g_autofree char *g = NULL, *r = NULL, *end = NULL;
    char chunk[65536];
    size_t sent = 0;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    qmp_server_add_client(srv, a[1]);
    g = read_line(a[0]);
    memset(chunk, 'x', sizeof(chunk));
    send_str(a[0], "{\"execute\":\"qmp_capabilities\",\"id\":\"");
    g_unix_set_fd_nonblocking(a[0], TRUE, NULL);
    while (sent <= QMP_MAX_MESSAGE + sizeof(chunk)) {
        ssize_t n = send(a[0], chunk, sizeof(chunk), MSG_NOSIGNAL);

        if (n > 0)
            sent += n;
        else if (errno == EAGAIN)
            g_main_context_iteration(NULL, FALSE);
        else
            break;
    }
    r = read_line(a[0]);
    ck_assert_msg(strstr(r, "too large"), "%s", r);
    end = read_line(a[0]);
    ck_assert_str_eq(end, ""); /* closed */
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);
    close(a[0]);
    qmp_server_free(srv);
}
END_TEST

/* Sends all of @data on a non-blocking @fd, iterating the server meanwhile. */
static void send_all_iter(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            data += n;
            len -= n;
        } else {
            ck_assert_int_eq(errno, EAGAIN);
            g_main_context_iteration(NULL, FALSE);
        }
    }
}

/* Sends @len bytes of @data (may be 0) while reading lines, until @want
 * lines have come or the server closes; returns the lines. Half-closes
 * after sending when @shut. */
static GPtrArray *exchange(int fd, const char *data, size_t len, bool shut, unsigned want)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) buf = g_string_new(NULL);
    char chunk[65536];

    for (;;) {
        ssize_t n;
        char *nl;
        bool progress = false;

        if (len) {
            n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                data += n;
                len -= n;
                progress = true;
                if (!len && shut)
                    ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
            }
        }
        if (lines->len >= want)
            break;
        n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n > 0) {
            progress = true;
            g_string_append_len(buf, chunk, n);
            while ((nl = strchr(buf->str, '\n'))) {
                g_ptr_array_add(lines, g_strndup(buf->str, nl + 1 - buf->str));
                g_string_erase(buf, 0, nl + 1 - buf->str);
            }
        }
        g_main_context_iteration(NULL, !progress);
    }
    return lines;
}

static int connect_client(struct qmp_server *srv, bool negotiate)
{
    int sv[2];
    g_autofree char *greeting = NULL;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    qmp_server_add_client(srv, sv[1]);
    greeting = read_line(sv[0]);
    ck_assert_msg(g_str_has_prefix(greeting, "{\"QMP\":"), "%s", greeting);
    if (negotiate) {
        g_autofree char *r = NULL;

        send_str(sv[0], "{\"execute\":\"qmp_capabilities\"}");
        r = read_line(sv[0]);
        ck_assert_str_eq(r, "{\"return\":{}}\r\n");
    }
    g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
    return sv[0];
}

static void expect_answer(int fd, const char *id)
{
    g_autofree char *req = g_strdup_printf("{\"execute\":\"query-vms\",\"id\":%s}", id);
    g_autofree char *want = g_strdup_printf("{\"return\":[],\"id\":%s}\r\n", id);
    g_autofree char *got = NULL;

    send_str(fd, req);
    got = read_line(fd);
    ck_assert_str_eq(got, want);
}

START_TEST(server_max_clients)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    struct qmp_limits lim = qmp_default_limits;
    int a, b, c[2], d;
    g_autofree char *refused = NULL, *end = NULL;

    lim.max_clients = 2;
    qmp_server_set_limits(srv, &lim);
    a = connect_client(srv, true);
    b = connect_client(srv, false);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
    qmp_server_add_client(srv, c[1]);
    refused = read_line(c[0]);
    ck_assert_msg(strstr(refused, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Too many "
                                  "clients (the limit is 2)"), "%s", refused);
    end = read_line(c[0]);
    ck_assert_str_eq(end, ""); /* closed */
    close(c[0]);
    ck_assert_uint_eq(qmp_server_client_count(srv), 2);
    /* The others are untouched; one leaving makes room. */
    expect_answer(a, "1");
    close(b);
    while (qmp_server_client_count(srv) > 1)
        g_main_context_iteration(NULL, TRUE);
    d = connect_client(srv, true);
    expect_answer(d, "2");
    close(a);
    close(d);
    drain();
    qmp_server_free(srv);
}
END_TEST

/* A client that sends and never reads holds one read of requests and the
 * replies to it, not replies to everything it sent; all come in the end. */
START_TEST(server_backpressure)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a = connect_client(srv, true);
    const unsigned n = 4000;
    GString *reqs = g_string_new(NULL);
    g_autoptr(GPtrArray) lines = NULL;
    size_t sent = 0, peak = 0;
    char pad[201];

    /* 1 MB of requests, more than the socket's buffers hold. */
    memset(pad, 'p', 200);
    pad[200] = '\0';
    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(reqs, "{\"execute\":\"query-commands\",\"id\":[%u,\"%s\"]}", i,
                               pad);
    /* Sends until the socket is full both ways, reading nothing. */
    for (unsigned idle = 0; idle < 50;) {
        ssize_t k = sent < reqs->len ? send(a, reqs->str + sent, reqs->len - sent,
                                            MSG_NOSIGNAL | MSG_DONTWAIT) : -1;

        if (k > 0) {
            sent += k;
            idle = 0;
        } else {
            idle++;
        }
        while (g_main_context_iteration(NULL, FALSE))
            ;
        peak = MAX(peak, qmp_server_held(srv));
    }
    ck_assert_uint_lt(sent, reqs->len); /* the server stopped reading */
    ck_assert_msg(peak < qmp_default_limits.out_high + 2 * 65536 + 4096,
                  "the server held %zu bytes for one client", peak);
    lines = exchange(a, reqs->str + sent, reqs->len - sent, false, n);
    ck_assert_uint_eq(lines->len, n);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *tail = g_strdup_printf(",\"id\":[%u,\"%s\"]}\r\n", i, pad);

        ck_assert(g_str_has_prefix(lines->pdata[i], "{\"return\":[{\"name\":"));
        ck_assert(g_str_has_suffix(lines->pdata[i], tail));
    }
    g_string_free(reqs, TRUE);
    close(a);
    drain();
    qmp_server_free(srv);
}
END_TEST

/* shutdown(SHUT_WR) after the requests: every reply still comes, then EOF. */
START_TEST(server_half_close)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a = connect_client(srv, true);
    const unsigned n = 2000;
    GString *reqs = g_string_new(NULL);
    g_autoptr(GPtrArray) lines = NULL;
    char c;

    for (unsigned i = 0; i < n; i++)
        g_string_append_printf(reqs, "{\"execute\":\"query-commands\",\"id\":%u}", i);
    g_string_append(reqs, "{\"execute\":\"query-vms\",\"id\":\"unfinished\"");
    lines = exchange(a, reqs->str, reqs->len, true, n + 1);
    ck_assert_uint_eq(lines->len, n);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *tail = g_strdup_printf(",\"id\":%u}\r\n", i);

        ck_assert(g_str_has_suffix(lines->pdata[i], tail));
    }
    /* Then the server closes its side and forgets the client. */
    while (recv(a, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN)
        g_main_context_iteration(NULL, TRUE);
    drain();
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);
    g_string_free(reqs, TRUE);
    close(a);
    qmp_server_free(srv);
}
END_TEST

/* Many half-sent large requests: all clients together stay under the
 * budget, the greediest being dropped; the others keep working. */
START_TEST(server_global_budget)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    struct qmp_limits lim = qmp_default_limits;
    int fds[6], fresh;
    char *part = g_malloc(700 * 1024);
    unsigned closed = 0;

    lim.max_held = 2U << 20;
    qmp_server_set_limits(srv, &lim);
    memset(part, 'x', 700 * 1024);
    memcpy(part, "{\"execute\":\"query-vms\",\"id\":\"", 30);
    for (int i = 0; i < 6; i++) {
        fds[i] = connect_client(srv, true);
        send_all_iter(fds[i], part, 700 * 1024 - 10 * i);
        drain();
        ck_assert_msg(qmp_server_held(srv) <= lim.max_held, "held %zu", qmp_server_held(srv));
    }
    for (int i = 0; i < 6; i++) {
        char buf[256];
        ssize_t k = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);

        closed += k == 0;
        close(fds[i]);
    }
    ck_assert_uint_ge(closed, 3);
    drain();
    fresh = connect_client(srv, true);
    expect_answer(fresh, "7");
    close(fresh);
    drain();
    g_free(part);
    qmp_server_free(srv);
}
END_TEST

/* Out of file descriptors, a pending connection keeps the listener
 * readable: the server must rest, not spin or log on every turn, and
 * accept the client once a descriptor is free. */
START_TEST(server_out_of_fds)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-qmp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *logpath = g_build_filename(dir, "log", NULL);
    g_autofree char *log = NULL, *greeting = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct qmp_limits lim = qmp_default_limits;
    struct qmp_server *srv;
    struct rlimit old, rl;
    GArray *fillers = g_array_new(FALSE, FALSE, sizeof(int));
    int client, logfd, saved_stderr, fd;
    unsigned dispatched = 0, lines = 0;
    gint64 end;

    srv = qmp_server_new(&m, path, NULL);
    ck_assert_ptr_nonnull(srv);
    lim.accept_retry_ms = 300;
    qmp_server_set_limits(srv, &lim);
    /* The server's log, into a file. */
    logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    saved_stderr = dup(2);
    dup2(logfd, 2);
    close(logfd);
    client = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(client, 0);
    /* Every descriptor in use. */
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    rl = old;
    rl.rlim_cur = 256;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    while ((fd = dup(0)) >= 0)
        g_array_append_val(fillers, fd);
    ck_assert_int_eq(errno, EMFILE);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    ck_assert_int_eq(connect(client, (struct sockaddr *)&sa, sizeof(sa)), 0);

    end = g_get_monotonic_time() + 150 * 1000;
    while (g_get_monotonic_time() < end)
        dispatched += g_main_context_iteration(NULL, FALSE);
    ck_assert_msg(dispatched <= 3, "%u dispatches in 150 ms", dispatched);
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);

    /* A descriptor free again: the client is served, after the rest. */
    close(g_array_index(fillers, int, fillers->len - 1));
    g_array_set_size(fillers, fillers->len - 1);
    greeting = read_line(client);
    ck_assert_msg(g_str_has_prefix(greeting, "{\"QMP\":"), "%s", greeting);
    ck_assert_uint_eq(qmp_server_client_count(srv), 1);

    for (guint i = 0; i < fillers->len; i++)
        close(g_array_index(fillers, int, i));
    g_array_free(fillers, TRUE);
    setrlimit(RLIMIT_NOFILE, &old);
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    ck_assert(g_file_get_contents(logpath, &log, NULL, NULL));
    for (char *p = log; (p = strstr(p, "accept:")); p++)
        lines++;
    ck_assert_msg(lines == 1, "%u log lines: %.300s", lines, log);
    close(client);
    drain();
    qmp_server_free(srv);
    unlink(logpath);
    rmdir(dir);
}
END_TEST

static Suite *qmp_suite(void)
{
    Suite *s = suite_create("qmp");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, split_coalesced_and_split);
    tcase_add_test(tc, split_scalars_and_strays);
    tcase_add_test(tc, split_limits);
    tcase_add_test(tc, events_have_timestamps);
    tcase_add_test(tc, events_checked_against_schema);
    tcase_add_test(tc, events_from_manager_are_declared);
    suite_add_tcase(s, tc);

    tc = tcase_create("session");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, session_negotiation);
    tcase_add_test(tc, session_bad_requests);
    tcase_add_test(tc, session_commands);
    tcase_add_test(tc, session_id_round_trip);
    tcase_add_test(tc, session_strict_json);
    tcase_add_test(tc, session_schema_checks);
    tcase_add_test(tc, session_schema_before_negotiation);
    tcase_add_test(tc, schema_is_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("manager");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, manager_guest_stop_is_shutdown);
    tcase_add_test(tc, manager_crash_event);
    tcase_add_test(tc, manager_build_failure_leaves_nothing);
    tcase_add_test(tc, manager_guest_calls);
    tcase_add_test(tc, manager_host_call_bounded);
    tcase_add_test(tc, monitor_answers_then_times_out);
    tcase_add_test(tc, monitor_gone_refuses_pending);
    tcase_add_test(tc, monitor_wait_ends_at_stop);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, server_framing_and_events);
    tcase_add_test(tc, server_on_managers_context);
    tcase_add_test(tc, server_oversize_closes);
    /* Megabytes through a socket: room for a sanitizer build. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, server_max_clients);
    tcase_add_test(tc, server_backpressure);
    tcase_add_test(tc, server_half_close);
    tcase_add_test(tc, server_global_budget);
    tcase_add_test(tc, server_out_of_fds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(qmp_suite());
}
