/*
 * vmm ctl: a small QMP client for people and scripts.
 *
 *     vmm ctl --qmp PATH COMMAND [JSON-OBJECT | KEY=VALUE...]
 *     vmm ctl --qmp PATH --events [--count N]
 *     vmm ctl --qmp PATH --monitor VM FIRST LAST [--answer R0,R1,..] [--count N]
 *         [--delay MS] [--timeout-ms MS]
 *
 * --monitor claims the VM's calls FIRST..LAST (it must be in prelaunch),
 * prints "claimed", then answers each GUEST_CALL with the --answer results
 * (default 0), printing the event; after N answers it leaves, and vmm
 * refuses that range from then on (a test tool, and an example monitor).
 * --delay waits that long before each answer (a slow monitor, for tests of
 * the waits); --timeout-ms is the claim's timeout-ms.
 *
 * A VALUE that parses as JSON is taken as JSON (numbers, true, objects);
 * anything else is a string. Prints the return value (indented on a
 * terminal) and exits 0; on an error prints "vmm: CLASS: desc" and exits 1;
 * exits 2 when it cannot talk to the socket, 125 on bad usage.
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/qmp.h"
#include "vmm/serve.h"

#define CTL_EXIT_ERROR 1
#define CTL_EXIT_IO 2

struct conn {
    int fd;
    GString *in;
};

static const char ctl_usage[] =
    "usage: vmm ctl --qmp PATH COMMAND [JSON-OBJECT | KEY=VALUE...]\n"
    "       vmm ctl --qmp PATH --events [--count N]\n"
    "       vmm ctl --qmp PATH --monitor VM FIRST LAST [--answer R0,R1,..] [--count N]\n"
    "           [--delay MS] [--timeout-ms MS]\n";

static bool conn_open(struct conn *c, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (g_str_has_prefix(path, "unix:"))
        path += 5;
    c->in = g_string_new(NULL);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (strlen(path) >= sizeof(sa.sun_path)) {
        vmm_log("ctl: %s: path too long", path);
        return false;
    }
    strcpy(sa.sun_path, path);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        vmm_log("ctl: cannot connect to %s: %s", path, g_strerror(errno));
        return false;
    }
    return true;
}

/* The next line from the server, without its CRLF; NULL at the end. */
static char *conn_line(struct conn *c)
{
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        char buf[65536];
        ssize_t n;

        if (nl) {
            size_t len = nl - c->in->str;
            char *line = g_strndup(c->in->str, len > 0 && nl[-1] == '\r' ? len - 1 : len);

            g_string_erase(c->in, 0, len + 1);
            return line;
        }
        n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        g_string_append_len(c->in, buf, n);
    }
}

static bool conn_send(struct conn *c, const char *text)
{
    size_t off = 0, len = strlen(text);

    while (off < len) {
        ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            vmm_log("ctl: write: %s", g_strerror(errno));
            return false;
        }
        off += n;
    }
    return true;
}

/* Strict JSON only (as the server wants it): json-glib alone would turn
 * token=99999999999999999999 into -1 and name=0x10 into 16. */
static JsonNode *parse(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();

    if (!qmp_json_check(text, strlen(text), NULL, NULL) ||
        !json_parser_load_from_data(p, text, -1, NULL) || !json_parser_get_root(p))
        return NULL;
    return json_node_copy(json_parser_get_root(p));
}

static char *to_text(JsonNode *n, bool pretty)
{
    g_autoptr(JsonGenerator) g = json_generator_new();

    json_generator_set_pretty(g, pretty);
    json_generator_set_indent(g, 2);
    json_generator_set_root(g, n);
    return json_generator_to_data(g, NULL);
}

/* Reads lines until the reply to @id, skipping events. */
static JsonNode *await_reply(struct conn *c, gint64 id)
{
    for (;;) {
        g_autofree char *line = conn_line(c);
        JsonNode *n;

        if (!line) {
            vmm_log("ctl: the server closed the connection");
            return NULL;
        }
        n = parse(line);
        if (n && JSON_NODE_HOLDS_OBJECT(n)) {
            JsonObject *o = json_node_get_object(n);

            if (json_object_has_member(o, "event")) {
                json_node_unref(n);
                continue;
            }
            /* A reply without id answers input the server could not read. */
            if (!json_object_has_member(o, "id") ||
                json_object_get_int_member(o, "id") == id)
                return n;
        }
        if (n)
            json_node_unref(n);
    }
}

/* Sends @cmd with @args and prints the outcome: the exit status. */
static int execute(struct conn *c, const char *cmd, JsonObject *args, gint64 id, bool print)
{
    JsonObject *req = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT), *reply;
    g_autofree char *text = NULL;
    JsonObject *o;
    int status;

    json_object_set_string_member(req, "execute", cmd);
    if (args)
        json_object_set_object_member(req, "arguments", json_object_ref(args));
    json_object_set_int_member(req, "id", id);
    json_node_take_object(node, req);
    text = to_text(node, false);
    json_node_unref(node);
    if (!conn_send(c, text))
        return CTL_EXIT_IO;
    reply = await_reply(c, id);
    if (!reply)
        return CTL_EXIT_IO;
    o = json_node_get_object(reply);
    if (json_object_has_member(o, "error")) {
        JsonObject *e = json_object_get_object_member(o, "error");

        vmm_log("%s: %s", json_object_get_string_member_with_default(e, "class", "?"),
                json_object_get_string_member_with_default(e, "desc", "?"));
        status = CTL_EXIT_ERROR;
    } else {
        if (print) {
            g_autofree char *ret = to_text(json_object_get_member(o, "return"),
                                           isatty(STDOUT_FILENO));
            puts(ret);
        }
        status = 0;
    }
    json_node_unref(reply);
    return status;
}

/* ARGS as one JSON object, or KEY=VALUE pairs. */
static JsonObject *parse_args(int argc, char **argv)
{
    JsonObject *o;

    if (argc == 1 && argv[0][0] == '{') {
        JsonNode *n = parse(argv[0]);

        if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
            vmm_log("ctl: %s is not a JSON object", argv[0]);
            if (n)
                json_node_unref(n);
            return NULL;
        }
        o = json_object_ref(json_node_get_object(n));
        json_node_unref(n);
        return o;
    }
    o = json_object_new();
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        g_autofree char *key = NULL;
        JsonNode *v;

        if (!eq || eq == argv[i]) {
            vmm_log("ctl: argument \"%s\" is not KEY=VALUE", argv[i]);
            json_object_unref(o);
            return NULL;
        }
        key = g_strndup(argv[i], eq - argv[i]);
        v = parse(eq + 1);
        if (!v) {
            v = json_node_new(JSON_NODE_VALUE);
            json_node_set_string(v, eq + 1);
        }
        json_object_set_member(o, key, v);
    }
    return o;
}

static int follow_events(struct conn *c, long count)
{
    bool pretty = isatty(STDOUT_FILENO);

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Negotiated: every event from now on reaches us. A script that runs
     * this in the background waits for the line before it makes events
     * happen (stdout carries events only). */
    vmm_log("ctl: following events");
    while (count != 0) {
        g_autofree char *line = conn_line(c);
        JsonNode *n;

        if (!line)
            return 0;
        n = parse(line);
        if (n && JSON_NODE_HOLDS_OBJECT(n) &&
            json_object_has_member(json_node_get_object(n), "event")) {
            g_autofree char *text = pretty ? to_text(n, true) : g_strdup(line);

            puts(text);
            if (count > 0)
                count--;
        }
        if (n)
            json_node_unref(n);
    }
    return 0;
}

static int monitor(struct conn *c, const char *vm, const char *first, const char *last,
                   const char *answer, long count, long delay_ms, long timeout_ms)
{
    JsonObject *args = json_object_new();
    g_auto(GStrv) results = g_strsplit(answer ? answer : "0", ",", 4);
    int status;

    json_object_set_string_member(args, "vm", vm);
    json_object_set_int_member(args, "first", g_ascii_strtoll(first, NULL, 0));
    json_object_set_int_member(args, "last", g_ascii_strtoll(last, NULL, 0));
    if (timeout_ms > 0)
        json_object_set_int_member(args, "timeout-ms", timeout_ms);
    status = execute(c, "monitor-calls", args, 2, false);
    json_object_unref(args);
    if (status)
        return status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    puts("claimed");
    while (count != 0) {
        g_autofree char *line = conn_line(c);
        g_autofree char *req = NULL;
        GString *r;
        JsonNode *n;
        JsonObject *o;

        if (!line)
            return 0;
        n = parse(line);
        if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
            if (n)
                json_node_unref(n);
            continue;
        }
        o = json_node_get_object(n);
        if (json_object_has_member(o, "error"))
            vmm_log("%s", line); /* a call-return that came too late */
        if (g_strcmp0(json_object_get_string_member_with_default(o, "event", ""), "GUEST_CALL")) {
            json_node_unref(n);
            continue;
        }
        puts(line);
        r = g_string_new(NULL);
        for (int i = 0; results[i]; i++)
            g_string_append_printf(r, "%s%" G_GINT64_FORMAT, i ? "," : "",
                                   g_ascii_strtoll(results[i], NULL, 0));
        req = g_strdup_printf("{\"execute\":\"call-return\",\"arguments\":{\"token\":%" G_GINT64_FORMAT
                              ",\"results\":[%s]}}",
                              json_object_get_int_member(json_object_get_object_member(o, "data"),
                                                         "token"), r->str);
        g_string_free(r, TRUE);
        json_node_unref(n);
        if (delay_ms > 0) /* a slow monitor, for tests of the waits */
            g_usleep((gulong)delay_ms * 1000);
        if (!conn_send(c, req))
            return CTL_EXIT_IO;
        if (count > 0)
            count--;
    }
    return 0;
}

int ctl_main(int argc, char **argv)
{
    const char *path = NULL, *cmd = NULL;
    bool events = false;
    const char *mon_vm = NULL, *mon_first = NULL, *mon_last = NULL, *answer = NULL;
    long count = -1, delay_ms = 0, timeout_ms = 0;
    int i = 2, status;
    struct conn c = { .fd = -1 };
    g_autofree char *greeting = NULL;
    JsonObject *args = NULL;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--qmp") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--events"))
            events = true;
        else if (!strcmp(argv[i], "--monitor") && i + 3 < argc) {
            mon_vm = argv[++i];
            mon_first = argv[++i];
            mon_last = argv[++i];
        } else if (!strcmp(argv[i], "--answer") && i + 1 < argc)
            answer = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--delay") && i + 1 < argc)
            delay_ms = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = strtol(argv[++i], NULL, 10);
        else {
            fputs(ctl_usage, stderr);
            return VMM_EXIT_USAGE;
        }
    }
    if (mon_vm)
        events = true; /* no COMMAND either */
    if (!path || (!events && i >= argc) || (events && i < argc)) {
        fputs(ctl_usage, stderr);
        return VMM_EXIT_USAGE;
    }
    if (!events) {
        cmd = argv[i++];
        args = parse_args(argc - i, argv + i);
        if (!args)
            return VMM_EXIT_USAGE;
    }
    if (!conn_open(&c, path)) {
        status = CTL_EXIT_IO;
        goto out;
    }
    greeting = conn_line(&c);
    if (!greeting || !strstr(greeting, "\"QMP\"")) {
        g_autoptr(JsonNode) n = greeting ? parse(greeting) : NULL;
        JsonNode *en = n && JSON_NODE_HOLDS_OBJECT(n)
                           ? json_object_get_member(json_node_get_object(n), "error") : NULL;
        JsonObject *e = en && JSON_NODE_HOLDS_OBJECT(en) ? json_node_get_object(en) : NULL;

        /* A server at its client limit says so instead of greeting. */
        if (e)
            vmm_log("%s: %s", json_object_get_string_member_with_default(e, "class", "?"),
                    json_object_get_string_member_with_default(e, "desc", "?"));
        else
            vmm_log("ctl: %s did not greet as a QMP server", path);
        status = CTL_EXIT_IO;
        goto out;
    }
    status = execute(&c, "qmp_capabilities", NULL, 0, false);
    if (status)
        goto out;
    if (mon_vm)
        status = monitor(&c, mon_vm, mon_first, mon_last, answer, count, delay_ms,
                         timeout_ms);
    else
        status = events ? follow_events(&c, count) : execute(&c, cmd, args, 1, true);
out:
    if (args)
        json_object_unref(args);
    if (c.fd >= 0)
        close(c.fd);
    if (c.in)
        g_string_free(c.in, TRUE);
    return status;
}
