/*
 * The manager <-> worker messages (vmm/worker_proto.h): encoding, the
 * hostile-input decoder, and sending and receiving one over a
 * SOCK_SEQPACKET socket.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/worker_proto.h"

VMM_DEFINE_QUARK(vmm-worker-proto-error-quark, worker_proto_error)

const char *worker_msg_type_name(worker_msg_type type)
{
    switch (type) {
    case WMSG_HELLO: return "hello";
    case WMSG_BUILD: return "build";
    case WMSG_START: return "start";
    case WMSG_PAUSE: return "pause";
    case WMSG_RESUME: return "resume";
    case WMSG_STOP: return "stop";
    case WMSG_TEARDOWN: return "teardown";
    case WMSG_STATS: return "stats";
    case WMSG_HOST_CALL_REPLY: return "host-call-reply";
    case WMSG_FORWARD_REPLY: return "forward-reply";
    case WMSG_REPLY: return "reply";
    case WMSG_STOPPED: return "stopped";
    case WMSG_CALL_STATS: return "call-stats";
    case WMSG_HOST_CALL: return "host-call";
    case WMSG_CALL_REFUSED: return "call-refused";
    case WMSG_FORWARD: return "forward";
    }
    return NULL;
}

/* Who may send @type (HELLO: both). */
static bool sent_by(worker_msg_type type, worker_peer from)
{
    if (type == WMSG_HELLO)
        return true;
    return (type >= WMSG_REPLY) == (from == WORKER_FROM_WORKER);
}

void worker_msg_clear(struct worker_msg *msg)
{
    g_free(msg->name);
    g_free(msg->config);
    g_free(msg->message);
    g_free(msg->counts);
    memset(msg, 0, sizeof(*msg));
}

/* --- encoding -------------------------------------------------------------- */

/* @v as @n little-endian bytes (1, 2, 4 or 8). */
static void put_le(GByteArray *b, uint64_t v, size_t n)
{
    uint8_t bytes[8];

    for (size_t i = 0; i < n; i++)
        bytes[i] = v >> (8 * i);
    g_byte_array_append(b, bytes, n);
}

static void put_u8(GByteArray *b, uint8_t v)
{
    put_le(b, v, 1);
}

static void put_u16(GByteArray *b, uint16_t v)
{
    put_le(b, v, 2);
}

static void put_u32(GByteArray *b, uint32_t v)
{
    put_le(b, v, 4);
}

static void put_u64(GByteArray *b, uint64_t v)
{
    put_le(b, v, 8);
}

static void put_str(GByteArray *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    put_u32(b, n);
    g_byte_array_append(b, (const guint8 *)(s ? s : ""), n);
}

static bool fits(const char *what, const char *s, size_t max, GError **error)
{
    if (!s || strlen(s) <= max)
        return true;
    g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_TOO_BIG,
                "%s is %zu bytes: at most %zu cross to a worker", what, strlen(s), max);
    return false;
}

bool worker_msg_encode(const struct worker_msg *msg, GByteArray *out, GError **error)
{
    guint start = out->len;
    uint32_t len;

    if (!fits("the VM name", msg->name, WORKER_NAME_MAX, error) ||
        !fits("the VM config", msg->config, WORKER_CONFIG_MAX, error) ||
        !fits("the message", msg->message, WORKER_TEXT_MAX, error))
        return false;
    put_u32(out, 0); /* the length, below */
    put_u16(out, msg->type);
    put_u16(out, 0);
    put_u64(out, msg->seq);
    switch (msg->type) {
    case WMSG_HELLO:
        put_u32(out, msg->version);
        break;
    case WMSG_BUILD:
        put_u64(out, msg->vm_id);
        put_u32(out, msg->pause_timeout_ms);
        put_u32(out, msg->host_call_timeout_ms);
        put_u8(out, msg->guest_id_zero);
        put_u8(out, msg->console_continues);
        put_str(out, msg->name);
        put_str(out, msg->config);
        break;
    case WMSG_START:
        put_u32(out, msg->policy.role);
        put_u32(out, msg->policy.flags);
        put_u64(out, msg->policy.services);
        put_u8(out, msg->policy.manageable);
        put_u32(out, MIN(msg->n_claims, WORKER_CLAIMS_MAX));
        for (unsigned i = 0; i < msg->n_claims && i < WORKER_CLAIMS_MAX; i++) {
            put_u32(out, msg->claims[i].first);
            put_u32(out, msg->claims[i].last);
            put_u32(out, msg->claims[i].timeout_ms);
        }
        break;
    case WMSG_STOP:
    case WMSG_STOPPED:
        put_u32(out, msg->reason);
        put_u32(out, (uint32_t)msg->status);
        put_u8(out, msg->message != NULL);
        put_str(out, msg->message);
        break;
    case WMSG_REPLY:
        put_u8(out, msg->ok);
        put_u32(out, msg->code);
        put_str(out, msg->ok ? NULL : msg->message);
        break;
    case WMSG_CALL_STATS:
        put_u64(out, msg->ucall_rejected);
        put_u32(out, msg->n_counts);
        for (size_t i = 0; i < msg->n_counts; i++)
            put_u64(out, msg->counts[i]);
        break;
    case WMSG_HOST_CALL:
        put_u32(out, msg->op);
        put_u64(out, msg->arg);
        break;
    case WMSG_HOST_CALL_REPLY:
        put_u32(out, (uint32_t)msg->result);
        put_u64(out, msg->out[0]);
        put_u64(out, msg->out[1]);
        break;
    case WMSG_CALL_REFUSED:
        put_u32(out, msg->vcpu);
        put_u32(out, msg->call);
        put_u32(out, msg->verdict);
        break;
    case WMSG_FORWARD:
        put_u32(out, msg->vcpu);
        put_u32(out, msg->call);
        put_u32(out, msg->conduit);
        for (int i = 0; i < 4; i++)
            put_u64(out, msg->args[i]);
        break;
    case WMSG_FORWARD_REPLY:
        put_u8(out, msg->handled);
        put_u32(out, msg->call_status);
        for (int i = 0; i < 4; i++)
            put_u64(out, msg->ret[i]);
        break;
    case WMSG_PAUSE:
    case WMSG_RESUME:
    case WMSG_TEARDOWN:
    case WMSG_STATS:
        break;
    }
    len = out->len - start;
    if (len > WORKER_MSG_MAX) {
        g_byte_array_set_size(out, start);
        g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_TOO_BIG,
                    "a %s message of %u bytes is over the %u-byte bound",
                    worker_msg_type_name(msg->type), len, WORKER_MSG_MAX);
        return false;
    }
    len = GUINT32_TO_LE(len);
    memcpy(out->data + start, &len, 4);
    return true;
}

/* --- decoding: the sender is hostile --------------------------------------- */

struct reader {
    const uint8_t *p;
    size_t left;
    char *why;                /* the first problem; NULL: none yet */
};

static G_GNUC_PRINTF(2, 3) void bad(struct reader *r, const char *fmt, ...)
{
    va_list ap;

    if (r->why)
        return;
    va_start(ap, fmt);
    r->why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->left = 0;
}

static const uint8_t *take(struct reader *r, size_t n, const char *field)
{
    const uint8_t *p = r->p;

    if (r->why)
        return NULL;
    if (n > r->left) {
        bad(r, "%s: cut short (%zu bytes left, %zu needed)", field, r->left, n);
        return NULL;
    }
    r->p += n;
    r->left -= n;
    return p;
}

static uint8_t get_u8(struct reader *r, const char *field)
{
    const uint8_t *p = take(r, 1, field);

    return p ? *p : 0;
}

/* A little-endian unsigned integer of @n bytes (2, 4 or 8). */
static uint64_t get_le(struct reader *r, size_t n, const char *field)
{
    const uint8_t *p = take(r, n, field);
    uint64_t v = 0;

    for (size_t i = 0; p && i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint16_t get_u16(struct reader *r, const char *field)
{
    return get_le(r, 2, field);
}

static uint32_t get_u32(struct reader *r, const char *field)
{
    return get_le(r, 4, field);
}

static uint64_t get_u64(struct reader *r, const char *field)
{
    return get_le(r, 8, field);
}

static bool get_bool(struct reader *r, const char *field)
{
    uint8_t v = get_u8(r, field);

    if (v > 1)
        bad(r, "%s: %u is not a boolean (0 or 1)", field, v);
    return v == 1;
}

/* An enum in [lo, hi]. */
static uint32_t get_enum(struct reader *r, const char *field, uint32_t lo, uint32_t hi)
{
    uint32_t v = get_u32(r, field);

    if (!r->why && (v < lo || v > hi))
        bad(r, "%s: %u is out of range (%u..%u)", field, v, lo, hi);
    return v;
}

/* A string of at most @max bytes, NUL-free UTF-8; NULL when it is bad. */
static char *get_str(struct reader *r, const char *field, size_t max)
{
    uint32_t n = get_u32(r, field);
    const uint8_t *p;

    if (r->why)
        return NULL;
    if (n > max) {
        bad(r, "%s: %u bytes, at most %zu allowed", field, n, max);
        return NULL;
    }
    p = take(r, n, field);
    if (!p)
        return NULL;
    if (memchr(p, 0, n)) {
        bad(r, "%s: holds a NUL byte", field);
        return NULL;
    }
    if (!g_utf8_validate((const char *)p, n, NULL)) {
        bad(r, "%s: not UTF-8", field);
        return NULL;
    }
    return g_strndup((const char *)p, n);
}

static void get_stop(struct reader *r, struct worker_msg *msg)
{
    bool has_message;

    msg->reason = get_enum(r, "reason", VM_STOP_GUEST_EXIT, VM_STOP_PANIC);
    msg->status = get_enum(r, "status", 0, 255);
    has_message = get_bool(r, "has-message");
    msg->message = get_str(r, "message", WORKER_TEXT_MAX);
    if (!r->why && !has_message && msg->message[0])
        bad(r, "message: given although has-message is 0");
    if (!has_message)
        g_clear_pointer(&msg->message, g_free);
}

static void get_start(struct reader *r, struct worker_msg *msg)
{
    msg->policy.role = get_enum(r, "role", VM_ROLE_RESTRICTED, VM_ROLE_SERVICE);
    msg->policy.flags = get_u32(r, "flags");
    if (!r->why && (msg->policy.flags >> GUEST_FLAG_COUNT))
        bad(r, "flags: %#x has unknown bits", msg->policy.flags);
    msg->policy.services = get_u64(r, "services");
    if (!r->why && (msg->policy.services >> SVC_COUNT))
        bad(r, "services: %#" G_GINT64_MODIFIER "x has unknown bits", msg->policy.services);
    msg->policy.manageable = get_bool(r, "manageable");
    msg->n_claims = get_enum(r, "claims", 0, WORKER_CLAIMS_MAX);
    for (unsigned i = 0; i < msg->n_claims && !r->why; i++) {
        struct worker_claim *c = &msg->claims[i];

        c->first = get_u32(r, "claim first");
        c->last = get_u32(r, "claim last");
        c->timeout_ms = get_u32(r, "claim timeout");
        if (!r->why && c->first > c->last)
            bad(r, "claims[%u]: first %#x is above last %#x", i, c->first, c->last);
    }
    policy_update(&msg->policy);
}

static void get_stats(struct reader *r, struct worker_msg *msg)
{
    size_t want = (call_table_len + 1) * CALL_VERDICT_COUNT;

    msg->ucall_rejected = get_u64(r, "ucall-rejected");
    msg->n_counts = get_u32(r, "counts");
    if (r->why)
        return;
    if (msg->n_counts != want) {
        bad(r, "counts: %zu, this vmm counts %zu", msg->n_counts, want);
        msg->n_counts = 0;
        return;
    }
    if (msg->n_counts * 8 > r->left) { /* before allocating what the sender says */
        bad(r, "counts: cut short");
        msg->n_counts = 0;
        return;
    }
    msg->counts = g_new(uint64_t, msg->n_counts);
    for (size_t i = 0; i < msg->n_counts; i++)
        msg->counts[i] = get_u64(r, "count");
}

static void get_fields(struct reader *r, struct worker_msg *msg)
{
    switch (msg->type) {
    case WMSG_HELLO:
        msg->version = get_u32(r, "version");
        if (!r->why && msg->version != WORKER_PROTO_VERSION)
            bad(r, "version %u, this vmm speaks %u", msg->version, WORKER_PROTO_VERSION);
        break;
    case WMSG_BUILD:
        msg->vm_id = get_u64(r, "vm-id");
        msg->pause_timeout_ms = get_u32(r, "pause-timeout");
        msg->host_call_timeout_ms = get_u32(r, "host-call-timeout");
        msg->guest_id_zero = get_bool(r, "guest-id-zero");
        msg->console_continues = get_bool(r, "console-continues");
        msg->name = get_str(r, "name", WORKER_NAME_MAX);
        msg->config = get_str(r, "config", WORKER_CONFIG_MAX);
        if (!r->why && !msg->name[0])
            bad(r, "name: empty");
        break;
    case WMSG_START:
        get_start(r, msg);
        break;
    case WMSG_STOP:
    case WMSG_STOPPED:
        get_stop(r, msg);
        break;
    case WMSG_REPLY:
        msg->ok = get_bool(r, "ok");
        msg->code = get_enum(r, "code", 0, MANAGER_ERROR_FAILED);
        msg->message = get_str(r, "error", WORKER_TEXT_MAX);
        if (!r->why && msg->ok != !msg->message[0])
            bad(r, "error: %s", msg->ok ? "given with ok" : "missing");
        if (msg->ok)
            g_clear_pointer(&msg->message, g_free);
        break;
    case WMSG_CALL_STATS:
        get_stats(r, msg);
        break;
    case WMSG_HOST_CALL:
        msg->op = get_enum(r, "op", MANAGER_HOST_CREATE, MANAGER_HOST_QUERY);
        msg->arg = get_u64(r, "arg");
        break;
    case WMSG_HOST_CALL_REPLY:
        msg->result = (int32_t)get_u32(r, "result");
        if (!r->why && (msg->result > 0 || msg->result < -4095))
            bad(r, "result: %d is neither 0 nor -errno", msg->result);
        msg->out[0] = get_u64(r, "out");
        msg->out[1] = get_u64(r, "out");
        break;
    case WMSG_CALL_REFUSED:
        msg->vcpu = get_enum(r, "vcpu", 0, WORKER_VCPU_MAX - 1);
        msg->call = get_u32(r, "call");
        msg->verdict = get_enum(r, "verdict", CALL_REFUSED_NO_CALLS, CALL_VERDICT_COUNT - 1);
        break;
    case WMSG_FORWARD:
        msg->vcpu = get_enum(r, "vcpu", 0, WORKER_VCPU_MAX - 1);
        msg->call = get_u32(r, "call");
        msg->conduit = get_enum(r, "conduit", CONDUIT_VMCALL, CONDUIT_UCALL);
        for (int i = 0; i < 4; i++)
            msg->args[i] = get_u64(r, "arg");
        break;
    case WMSG_FORWARD_REPLY:
        msg->handled = get_bool(r, "handled");
        msg->call_status = get_enum(r, "call-status", CALL_OK, CALL_INVALID);
        for (int i = 0; i < 4; i++)
            msg->ret[i] = get_u64(r, "ret");
        break;
    case WMSG_PAUSE:
    case WMSG_RESUME:
    case WMSG_TEARDOWN:
    case WMSG_STATS:
        break;
    }
}

bool worker_msg_decode(const uint8_t *buf, size_t len, worker_peer from,
                       struct worker_msg *msg, GError **error)
{
    struct reader r = { .p = buf, .left = len };
    const char *name;
    uint32_t length;
    uint16_t type, zero;

    memset(msg, 0, sizeof(*msg));
    if (len > WORKER_MSG_MAX) {
        bad(&r, "%zu bytes, over the %u-byte bound", len, WORKER_MSG_MAX);
        goto out;
    }
    length = get_u32(&r, "length");
    type = get_u16(&r, "type");
    zero = get_u16(&r, "reserved");
    msg->seq = get_u64(&r, "seq");
    if (r.why)
        goto out;
    if (length != len) {
        bad(&r, "length %u, but the packet has %zu bytes", length, len);
        goto out;
    }
    if (zero)
        bad(&r, "reserved header bits %#x set", zero);
    name = worker_msg_type_name(type);
    if (!name) {
        bad(&r, "unknown message type %u", type);
        goto out;
    }
    if (!sent_by(type, from)) {
        bad(&r, "a %s message cannot come from the %s", name,
            from == WORKER_FROM_WORKER ? "worker" : "manager");
        goto out;
    }
    msg->type = type;
    get_fields(&r, msg);
    if (!r.why && r.left)
        bad(&r, "%s: %zu trailing bytes", name, r.left);
out:
    if (!r.why)
        return true;
    g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_MALFORMED, "malformed %s message: %s",
                from == WORKER_FROM_WORKER ? "worker" : "manager", r.why);
    g_free(r.why);
    worker_msg_clear(msg);
    return false;
}

/* --- the channel ----------------------------------------------------------- */

bool worker_msg_send(int fd, const struct worker_msg *msg, GError **error)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    ssize_t n;

    if (!worker_msg_encode(msg, b, error))
        return false;
    /* write(), not send(): a worker's vCPU threads send their host calls
     * themselves, and their seccomp list has write() (vmm ignores SIGPIPE). */
    do
        n = write(fd, b->data, b->len);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)b->len)
        return true;
    g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_IO, "sending %s: %s",
                worker_msg_type_name(msg->type), n < 0 ? g_strerror(errno) : "cut short");
    return false;
}

int worker_msg_recv(int fd, worker_peer from, gint64 deadline, struct worker_msg *msg,
                    GError **error)
{
    /* One more byte than the bound: MSG_TRUNC reports the packet's real size. */
    g_autofree uint8_t *buf = g_malloc(WORKER_MSG_MAX + 1);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t n;
    int r;

    for (;;) {
        gint64 left = deadline == G_MAXINT64 ? -1 : deadline - g_get_monotonic_time();
        int ms = deadline == G_MAXINT64 ? -1 : left <= 0 ? 0 : (int)MIN(left / 1000 + 1, G_MAXINT);

        r = poll(&p, 1, ms);
        if (r == 0)
            return 0;
        if (r < 0 && errno != EINTR) {
            g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_IO, "poll: %s",
                        g_strerror(errno));
            return -1;
        }
        if (r < 0)
            continue;
        n = recv(fd, buf, WORKER_MSG_MAX + 1, MSG_TRUNC | MSG_DONTWAIT);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
            break;
    }
    if (n <= 0) {
        g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_IO, "%s",
                    n < 0 ? g_strerror(errno) : "the other side closed the channel");
        return -1;
    }
    if ((size_t)n > WORKER_MSG_MAX) {
        g_set_error(error, WORKER_PROTO_ERROR, WORKER_PROTO_MALFORMED,
                    "malformed %s message: %zd bytes, over the %u-byte bound",
                    from == WORKER_FROM_WORKER ? "worker" : "manager", n, WORKER_MSG_MAX);
        return -1;
    }
    return worker_msg_decode(buf, n, from, msg, error) ? 1 : -1;
}
