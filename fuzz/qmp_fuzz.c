// fuzz-sources: src/calls/calls.c src/calls/calls_info.c src/calls/calls_vm.c src/base/caps.c src/config/config.c src/core/console.c src/core/console_input.c src/cli/ctl.c src/base/error.c src/core/iobus.c src/core/irq.c src/core/irq_routes.c src/core/kvm.c src/images/loader_elf.c src/images/loader_linux.c src/manager/manager.c src/manager/manager_config.c src/manager/manager_host.c src/manager/manager_kvm.c src/manager/manager_monitor.c src/core/memory.c src/boot/panic_watch.c src/calls/policy.c src/cli/serve.c lib/toml/toml.c src/calls/ucall.c src/calls/vm_calls.c src/core/vcpu.c src/core/vm.c src/boot/vm_build.c src/core/device.c src/core/machine.c src/control/qmp/commands.c src/control/qmp/events.c src/control/qmp/json.c src/control/qmp/server.c src/control/qmp/session.c src/control/qmp/stream.c src/base/outbuf.c src/core/guest_mem.c src/images/linux_format.c src/base/log_async.c src/base/seccomp.c src/base/wait.c tests/fake_backend.c src/control/qmp/request.c src/control/qmp/schema.c src/control/qmp/schema_check.c src/control/qmp/wire.c src/config/config_schema.c src/config/schema.c src/boot/status_watch.c src/core/console_status.c src/core/console_observer.c src/cli/worker_main.c src/base/sandbox.c src/base/cgroup.c src/manager/worker_backend.c src/manager/worker_config.c src/manager/worker_proto.c src/manager/worker_serve.c src/devices/*.c src/virtio/*.c src/arch/x86_64/*.c
// fuzz-includes: include src/arch/x86_64
// fuzz-pkgs: glib-2.0 json-glib-1.0 libcap-ng libseccomp
// fuzz-libs: -lfdt
// fuzz-cflags: -DVMM_FIRMWARE_INSTALL_DIR="/nonexistent/vmm/firmware"
// fuzz-dict: fuzz/qmp.dict
// fuzz-seeds: fuzz/qmp-seeds
/*
 * libFuzzer target: any byte string is a client's side of a control socket
 * conversation. The first byte's low 7 bits pick where the stream is cut
 * into reads; the rest goes through the splitter one text at a time, as
 * the server feeds it, and each text through a session (negotiation, the
 * checks, every command) against a manager whose VMs are fakes, as in
 * tests/unit/test_qmp.c. With the first byte's top bit set, the bytes go
 * instead through the server itself, over a socketpair, with small limits
 * (so its backpressure, budget and oversize paths run), and the client
 * half-closes at the end: the server must then close, having answered.
 * Every line that comes back, replies and events alike, must be one line
 * of strict JSON: an object with "return" or "error" (or "event"), or the
 * greeting. Run with fuzz/run.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"

#include "../tests/fake_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- checks ---------------------------------------------------------------- */

static void check_line(const char *line)
{
    size_t len = strlen(line);
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    JsonObject *o;

    if (strpbrk(line, "\r\n"))
        __builtin_trap(); /* one line */
    if (!qmp_json_check(line, len, NULL, NULL))
        __builtin_trap(); /* strict JSON */
    if (!json_parser_load_from_data(parser, line, len, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        __builtin_trap();
    o = json_node_get_object(json_parser_get_root(parser));
    if (!json_object_has_member(o, "return") && !json_object_has_member(o, "error") &&
        !json_object_has_member(o, "event") && !json_object_has_member(o, "QMP"))
        __builtin_trap();
}

static void on_event(const struct manager_event *ev, void *opaque)
{
    g_autofree char *line = qmp_event_from_manager(ev);

    check_line(line);
}

struct conv {
    struct qmp_session session;
    unsigned texts;
};

static void on_text(const char *text, size_t len, void *opaque)
{
    struct conv *c = opaque;
    g_autofree char *reply = NULL;

    if (c->session.quit)
        return; /* the server reads nothing after quit */
    reply = qmp_session_handle(&c->session, text, len);
    check_line(reply);
    c->texts++;
}

static void add_vm(struct manager *m, const char *name)
{
    struct vmm_config cfg;

    config_init(&cfg);
    cfg.firmware = g_strdup("/nonexistent/fuzz.elf");
    if (!manager_create(m, name, &cfg, 0, NULL))
        __builtin_trap();
    config_clear(&cfg);
}

/* Lines the server sent, checked as they complete. */
static void take_lines(GString *buf)
{
    char *nl;

    while ((nl = strchr(buf->str, '\n'))) {
        if (nl == buf->str || nl[-1] != '\r')
            __builtin_trap(); /* CRLF */
        nl[-1] = '\0';
        check_line(buf->str);
        g_string_erase(buf, 0, nl + 1 - buf->str);
    }
}

static void turn(GMainContext *ctx)
{
    while (g_main_context_iteration(ctx, FALSE))
        ;
}

/* The bytes through a real server: sent in @chunk-byte writes while the
 * replies are read; then a half-close, after which the server must answer
 * what is complete and close. */
static void through_server(struct manager *m, GMainContext *ctx, const uint8_t *data,
                           size_t size, size_t chunk)
{
    struct qmp_server *srv = qmp_server_new(m, NULL, NULL);
    struct qmp_limits lim = qmp_default_limits;
    g_autoptr(GString) in = g_string_new(NULL);
    char buf[4096];
    size_t off = 0;
    bool shut = false;
    int sv[2];

    lim.out_high = 256;
    lim.max_backlog = 64 << 10;
    lim.max_held = 192 << 10;
    qmp_server_set_limits(srv, &lim);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        __builtin_trap();
    qmp_server_add_client(srv, sv[1]);
    for (;;) {
        ssize_t n;

        if (off < size) {
            n = send(sv[0], data + off, MIN(chunk, size - off), MSG_NOSIGNAL);
            if (n > 0)
                off += n;
            else if (errno != EAGAIN)
                off = size; /* the server closed */
        } else if (!shut) {
            shutdown(sv[0], SHUT_WR);
            shut = true;
        }
        turn(ctx);
        n = recv(sv[0], buf, sizeof(buf), 0);
        if (n == 0 && off == size)
            break; /* closed after all: done */
        if (n > 0) {
            g_string_append_len(in, buf, n);
            take_lines(in);
        } else if (n < 0 && errno != EAGAIN && errno != ECONNRESET) {
            __builtin_trap();
        }
    }
    close(sv[0]);
    turn(ctx);
    if (qmp_server_client_count(srv) != 0)
        __builtin_trap(); /* closed, so forgotten */
    qmp_server_free(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GMainContext *ctx;
    struct manager m;
    struct qmp_splitter split;
    struct conv c = { 0 };
    size_t chunk, off = 1;

    if (size < 1)
        return 0;
    /* Reads of 1 to 127 bytes, or all at once. */
    chunk = data[0] & 0x7f ? data[0] & 0x7f : size;
    /* Its own context: what the manager leaves queued when it is cleared
     * (a stop report of the VMs torn down) goes with it, never run. */
    ctx = g_main_context_new();
    manager_init(&m, &fake_backend, ctx);
    m.on_event = on_event;
    m.pause_timeout_ms = 10;
    m.host_call_timeout_ms = 10;
    add_vm(&m, "a");
    add_vm(&m, "b");
    if (data[0] & 0x80) {
        through_server(&m, ctx, data + 1, size - 1, chunk);
        goto done;
    }
    c.session.manager = &m;
    qmp_splitter_init(&split);
    while (off < size && !c.session.quit) {
        size_t n = MIN(chunk, size - off);
        const char *p = (const char *)data + off;

        off += n;
        while (g_main_context_iteration(ctx, FALSE))
            ; /* what commands queued (stop reports, events) */
        /* One text at a time, as the server feeds a client. */
        while (n) {
            ptrdiff_t k = qmp_splitter_feed_one(&split, p, n, on_text, &c);

            if (k < 0)
                goto out; /* over the limits: the server closes */
            p += k;
            n -= k;
        }
    }
out:
    qmp_splitter_clear(&split);
    manager_monitor_gone(&m, &c.session);
done:
    while (g_main_context_iteration(ctx, FALSE))
        ;
    manager_clear(&m);
    g_main_context_unref(ctx);
    return 0;
}
