/*
 * The manager <-> worker protocol (vmm/worker_proto.h): every message
 * round-trips, and the decoder refuses each way a hostile worker can get a
 * message wrong, with an error naming what was wrong.
 */
#include <check.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/worker_proto.h"

#include "unit.h"

static GByteArray *encode(const struct worker_msg *msg)
{
    GByteArray *b = g_byte_array_new();
    GError *err = NULL;

    ck_assert_msg(worker_msg_encode(msg, b, &err), "%s", err ? err->message : "");
    return b;
}

/* Decoding @b from @from fails with an error containing @what. */
static void refused(const uint8_t *b, size_t len, worker_peer from, const char *what)
{
    struct worker_msg out;
    GError *err = NULL;

    ck_assert_msg(!worker_msg_decode(b, len, from, &out, &err), "accepted, wanted '%s'", what);
    ck_assert(g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_MALFORMED));
    ck_assert_msg(strstr(err->message, what), "'%s' does not say '%s'", err->message, what);
    ck_assert_ptr_null(out.message);
    ck_assert_ptr_null(out.counts);
    g_error_free(err);
}

static void decoded(GByteArray *b, worker_peer from, struct worker_msg *out)
{
    GError *err = NULL;

    ck_assert_msg(worker_msg_decode(b->data, b->len, from, out, &err), "%s",
                  err ? err->message : "");
}

/* Patches the u32 at @off. */
static void set_u32(GByteArray *b, size_t off, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(b->data + off, &v, 4);
}

static void fix_length(GByteArray *b)
{
    set_u32(b, 0, b->len);
}

START_TEST(every_message_round_trips)
{
    struct worker_msg in = { .type = WMSG_BUILD, .seq = 7, .vm_id = 3, .pause_timeout_ms = 2000,
                             .host_call_timeout_ms = 5000, .guest_id_zero = true,
                             .console_continues = true,
                             .name = "web-1", .config = "{\"vm\":{\"vcpus\":2}}" };
    struct worker_msg out;
    g_autoptr(GByteArray) b = encode(&in);
    uint64_t counts[(call_table_len + 1) * CALL_VERDICT_COUNT];

    decoded(b, WORKER_FROM_MANAGER, &out);
    ck_assert_int_eq(out.type, WMSG_BUILD);
    ck_assert_uint_eq(out.seq, 7);
    ck_assert_uint_eq(out.vm_id, 3);
    ck_assert_uint_eq(out.pause_timeout_ms, 2000);
    ck_assert_uint_eq(out.host_call_timeout_ms, 5000);
    ck_assert(out.guest_id_zero);
    ck_assert(out.console_continues);
    ck_assert_str_eq(out.name, "web-1");
    ck_assert_str_eq(out.config, in.config);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_START, .n_claims = 2,
                              .policy = { .role = VM_ROLE_SERVICE, .flags = 5, .services = 0x81,
                                          .manageable = true },
                              .claims = { { 0x100, 0x1ff, 50 }, { 0x300, 0x300, 7 } } };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_MANAGER, &out);
    ck_assert_int_eq(out.policy.role, VM_ROLE_SERVICE);
    ck_assert_uint_eq(out.policy.flags, 5);
    ck_assert_uint_eq(out.policy.services, 0x81);
    ck_assert(out.policy.manageable && out.policy.may_call);
    ck_assert_uint_eq(out.n_claims, 2);
    ck_assert_uint_eq(out.claims[1].first, 0x300);
    ck_assert_uint_eq(out.claims[0].timeout_ms, 50);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_STOPPED, .reason = VM_STOP_CRASH, .status = 120,
                              .message = "RIP=0 triple fault" };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert_int_eq(out.reason, VM_STOP_CRASH);
    ck_assert_int_eq(out.status, 120);
    ck_assert_str_eq(out.message, "RIP=0 triple fault");
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_STOP, .reason = VM_STOP_HOST, .status = 143 };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_MANAGER, &out);
    ck_assert_ptr_null(out.message); /* none, not "" */
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_REPLY, .seq = 9, .ok = false,
                              .code = MANAGER_ERROR_STATE, .message = "no" };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert(!out.ok);
    ck_assert_uint_eq(out.code, MANAGER_ERROR_STATE);
    ck_assert_str_eq(out.message, "no");
    worker_msg_clear(&out);

    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
        counts[i] = i * 3;
    in = (struct worker_msg){ .type = WMSG_CALL_STATS, .ucall_rejected = 4, .counts = counts,
                              .n_counts = G_N_ELEMENTS(counts) };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert_uint_eq(out.ucall_rejected, 4);
    ck_assert_uint_eq(out.n_counts, G_N_ELEMENTS(counts));
    ck_assert_uint_eq(out.counts[G_N_ELEMENTS(counts) - 1], (G_N_ELEMENTS(counts) - 1) * 3);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_HOST_CALL, .seq = 11, .op = MANAGER_HOST_QUERY,
                              .arg = 42 };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert_int_eq(out.op, MANAGER_HOST_QUERY);
    ck_assert_uint_eq(out.arg, 42);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_HOST_CALL_REPLY, .seq = 11, .result = -EDQUOT,
                              .out = { 1, 2 } };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_MANAGER, &out);
    ck_assert_int_eq(out.result, -EDQUOT);
    ck_assert_uint_eq(out.out[1], 2);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_FORWARD, .vcpu = 3, .call = 0xc6000100,
                              .conduit = CONDUIT_HVC, .args = { 1, 2, 3, 4 } };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert_uint_eq(out.call, 0xc6000100);
    ck_assert_int_eq(out.conduit, CONDUIT_HVC);
    ck_assert_uint_eq(out.args[3], 4);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_FORWARD_REPLY, .handled = true,
                              .call_status = CALL_OK, .ret = { 9, 8, 7, 6 } };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_MANAGER, &out);
    ck_assert(out.handled);
    ck_assert_uint_eq(out.ret[0], 9);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_CALL_REFUSED, .vcpu = 1, .call = 5,
                              .verdict = CALL_REFUSED_FLAGS };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    ck_assert_int_eq(out.verdict, CALL_REFUSED_FLAGS);
    worker_msg_clear(&out);

    in = (struct worker_msg){ .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION };
    b = (g_byte_array_unref(b), encode(&in));
    decoded(b, WORKER_FROM_WORKER, &out);
    decoded(b, WORKER_FROM_MANAGER, &out);
}
END_TEST

START_TEST(header_checked)
{
    struct worker_msg in = { .type = WMSG_PAUSE };
    g_autoptr(GByteArray) b = encode(&in);
    g_autofree uint8_t *huge = g_malloc0(WORKER_MSG_MAX + 1);

    refused(b->data, 3, WORKER_FROM_MANAGER, "length: cut short");
    refused(b->data, WORKER_MSG_HEADER - 1, WORKER_FROM_MANAGER, "seq: cut short");
    set_u32(b, 0, 99);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "length 99, but the packet has 16 bytes");
    fix_length(b);
    b->data[6] = 1; /* the reserved u16 */
    refused(b->data, b->len, WORKER_FROM_MANAGER, "reserved header bits");
    b->data[6] = 0;
    b->data[4] = 200;
    refused(b->data, b->len, WORKER_FROM_MANAGER, "unknown message type 200");
    b->data[4] = 0;
    refused(b->data, b->len, WORKER_FROM_MANAGER, "unknown message type 0");
    /* Over the bound, whatever it says. */
    memcpy(huge, b->data, b->len);
    memcpy(huge, &(uint32_t){ GUINT32_TO_LE(WORKER_MSG_MAX + 1) }, 4);
    refused(huge, WORKER_MSG_MAX + 1, WORKER_FROM_WORKER, "over the 65536-byte bound");
}
END_TEST

/* A worker cannot send a command, nor the manager a worker's message. */
START_TEST(direction_checked)
{
    struct worker_msg in = { .type = WMSG_TEARDOWN };
    g_autoptr(GByteArray) b = encode(&in);

    refused(b->data, b->len, WORKER_FROM_WORKER, "a teardown message cannot come from the worker");
    g_byte_array_unref(b);
    in = (struct worker_msg){ .type = WMSG_HOST_CALL, .op = MANAGER_HOST_START };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "a host-call message cannot come from the manager");
}
END_TEST

START_TEST(trailing_bytes_refused)
{
    struct worker_msg in = { .type = WMSG_HOST_CALL, .op = MANAGER_HOST_START, .arg = 2 };
    g_autoptr(GByteArray) b = encode(&in);

    g_byte_array_append(b, (const guint8 *)"x", 1);
    fix_length(b);
    refused(b->data, b->len, WORKER_FROM_WORKER, "host-call: 1 trailing bytes");
    /* and a body cut short */
    g_byte_array_set_size(b, b->len - 5);
    fix_length(b);
    refused(b->data, b->len, WORKER_FROM_WORKER, "arg: cut short");
}
END_TEST

START_TEST(enums_checked)
{
    struct worker_msg in = { .type = WMSG_STOPPED, .reason = VM_STOP_HOST, .status = 0 };
    g_autoptr(GByteArray) b = encode(&in);
    const size_t body = WORKER_MSG_HEADER;

    set_u32(b, body, VM_STOP_NONE);
    refused(b->data, b->len, WORKER_FROM_WORKER, "reason: 0 is out of range");
    set_u32(b, body, 77);
    refused(b->data, b->len, WORKER_FROM_WORKER, "reason: 77 is out of range");
    set_u32(b, body, VM_STOP_HOST);
    set_u32(b, body + 4, 256);
    refused(b->data, b->len, WORKER_FROM_WORKER, "status: 256 is out of range");
    set_u32(b, body + 4, 0);
    b->data[body + 8] = 2;
    refused(b->data, b->len, WORKER_FROM_WORKER, "has-message: 2 is not a boolean");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_HOST_CALL, .op = MANAGER_HOST_QUERY };
    b = encode(&in);
    set_u32(b, body, MANAGER_HOST_QUERY + 1);
    refused(b->data, b->len, WORKER_FROM_WORKER, "op: 5 is out of range");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_CALL_REFUSED, .verdict = CALL_REFUSED_ROLE };
    b = encode(&in);
    set_u32(b, body + 8, CALL_ALLOWED);
    refused(b->data, b->len, WORKER_FROM_WORKER, "verdict: 0 is out of range");
    set_u32(b, body + 8, CALL_VERDICT_COUNT);
    refused(b->data, b->len, WORKER_FROM_WORKER, "verdict");
    set_u32(b, body + 8, CALL_REFUSED_ROLE);
    set_u32(b, body, WORKER_VCPU_MAX);
    refused(b->data, b->len, WORKER_FROM_WORKER, "vcpu: 4096 is out of range");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_FORWARD, .conduit = CONDUIT_UCALL };
    b = encode(&in);
    set_u32(b, body + 8, CONDUIT_UCALL + 1);
    refused(b->data, b->len, WORKER_FROM_WORKER, "conduit: 4 is out of range");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_REPLY, .ok = false, .code = 99, .message = "x" };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_WORKER, "code: 99 is out of range");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_HOST_CALL_REPLY, .result = 1 };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "result: 1 is neither 0 nor -errno");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_START, .policy = { .flags = 1u << GUEST_FLAG_COUNT } };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "flags: 0x8 has unknown bits");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_START, .n_claims = 1, .claims = { { 5, 4, 1 } } };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "claims[0]: first 0x5 is above last 0x4");
    set_u32(b, body + 17, WORKER_CLAIMS_MAX + 1);
    refused(b->data, b->len, WORKER_FROM_MANAGER, "claims: 65 is out of range");
    g_byte_array_unref(b);

    in = (struct worker_msg){ .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION + 1 };
    b = encode(&in);
    refused(b->data, b->len, WORKER_FROM_WORKER, "version 2, this vmm speaks 1");
}
END_TEST

START_TEST(strings_checked)
{
    struct worker_msg in = { .type = WMSG_STOPPED, .reason = VM_STOP_HOST, .message = "abc" };
    g_autoptr(GByteArray) b = encode(&in);
    const size_t text = WORKER_MSG_HEADER + 9 + 4; /* reason, status, has-message, length */
    g_autofree char *long_text = g_strnfill(WORKER_TEXT_MAX + 1, 'a');
    GError *err = NULL;

    b->data[text + 1] = 0;
    refused(b->data, b->len, WORKER_FROM_WORKER, "message: holds a NUL byte");
    b->data[text + 1] = 0xff;
    refused(b->data, b->len, WORKER_FROM_WORKER, "message: not UTF-8");
    b->data[text + 1] = 'b';
    set_u32(b, text - 4, 4);
    refused(b->data, b->len, WORKER_FROM_WORKER, "message: cut short");
    set_u32(b, text - 4, WORKER_TEXT_MAX + 1);
    refused(b->data, b->len, WORKER_FROM_WORKER, "message: 4097 bytes, at most 4096 allowed");
    set_u32(b, text - 4, 3);
    b->data[text - 5] = 0; /* has-message 0, but a message */
    refused(b->data, b->len, WORKER_FROM_WORKER, "given although has-message is 0");
    g_byte_array_unref(b);

    /* The encoder keeps to the same bounds. */
    in.message = long_text;
    b = g_byte_array_new();
    ck_assert(!worker_msg_encode(&in, b, &err));
    ck_assert(g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_TOO_BIG));
    g_clear_error(&err);
    ck_assert_uint_eq(b->len, 0);

    /* A reply's error is there exactly when it is not ok. */
    in = (struct worker_msg){ .type = WMSG_REPLY, .ok = true };
    g_byte_array_unref(b);
    b = encode(&in);
    b->data[WORKER_MSG_HEADER] = 0;
    refused(b->data, b->len, WORKER_FROM_WORKER, "error: missing");
}
END_TEST

/* A stats message with another count than this vmm's table is refused
 * before anything is allocated for it. */
START_TEST(stats_bounded)
{
    uint64_t counts[2] = { 1, 2 };
    struct worker_msg in = { .type = WMSG_CALL_STATS, .counts = counts, .n_counts = 2 };
    g_autoptr(GByteArray) b = encode(&in);

    refused(b->data, b->len, WORKER_FROM_WORKER, "counts: 2, this vmm counts");
    set_u32(b, WORKER_MSG_HEADER + 8, (call_table_len + 1) * CALL_VERDICT_COUNT);
    refused(b->data, b->len, WORKER_FROM_WORKER, "counts: cut short");
}
END_TEST

START_TEST(channel_sends_and_receives)
{
    int sv[2];
    struct worker_msg in = { .type = WMSG_HOST_CALL, .seq = 5, .op = MANAGER_HOST_CREATE };
    struct worker_msg out;
    g_autofree uint8_t *junk = g_malloc0(WORKER_MSG_MAX + 100);
    GError *err = NULL;

    ck_assert(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    /* nothing yet: the deadline passes */
    ck_assert_int_eq(worker_msg_recv(sv[0], WORKER_FROM_WORKER,
                                     g_get_monotonic_time() + 10000, &out, &err), 0);
    ck_assert(worker_msg_send(sv[1], &in, &err));
    ck_assert_int_eq(worker_msg_recv(sv[0], WORKER_FROM_WORKER, G_MAXINT64, &out, &err), 1);
    ck_assert_uint_eq(out.seq, 5);
    worker_msg_clear(&out);
    /* a packet over the bound: refused by its real size, not read in part */
    ck_assert(send(sv[1], junk, WORKER_MSG_MAX + 100, 0) == WORKER_MSG_MAX + 100);
    ck_assert_int_eq(worker_msg_recv(sv[0], WORKER_FROM_WORKER, G_MAXINT64, &out, &err), -1);
    ck_assert(g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_MALFORMED));
    ck_assert_ptr_nonnull(strstr(err->message, "65636 bytes"));
    g_clear_error(&err);
    close(sv[1]);
    ck_assert_int_eq(worker_msg_recv(sv[0], WORKER_FROM_WORKER, G_MAXINT64, &out, &err), -1);
    ck_assert(g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_IO));
    g_clear_error(&err);
    close(sv[0]);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as vmm: a closed channel is an error, not a death */
    Suite *s = suite_create("worker_proto");
    TCase *tc = tcase_create("worker_proto");

    tcase_add_test(tc, every_message_round_trips);
    tcase_add_test(tc, header_checked);
    tcase_add_test(tc, direction_checked);
    tcase_add_test(tc, trailing_bytes_refused);
    tcase_add_test(tc, enums_checked);
    tcase_add_test(tc, strings_checked);
    tcase_add_test(tc, stats_bounded);
    tcase_add_test(tc, channel_sends_and_receives);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
