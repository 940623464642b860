/*
 * The manager <-> worker protocol: one VM runs in a worker process, the
 * manager drives it over a SOCK_SEQPACKET socketpair (one message per
 * packet). Every message is length-prefixed and little-endian:
 *
 *     u32 length (the whole message, header included)
 *     u16 type   (worker_msg_type)
 *     u16 zero
 *     u64 seq    (a command's number; its reply carries it back)
 *     fields     (per type, in the order of struct worker_msg below;
 *                 a string is u32 length + bytes, no NUL)
 *
 * The worker opens with HELLO (its protocol version). Commands go from the
 * manager and each gets one REPLY; the worker's own messages (a stop, call
 * counters, a service guest's host call, a call for a monitor, a refused
 * call) come unasked, and the two that wait (HOST_CALL, FORWARD) get the
 * manager's *_REPLY with their seq.
 *
 * The decoder treats the sender as hostile: the manager kills a worker
 * whose message does not decode (bounded sizes, every enum, flag and
 * length checked, strings NUL-free UTF-8, unknown types, messages meant
 * for the other side and trailing bytes refused), never itself.
 */
#ifndef VMM_WORKER_PROTO_H
#define VMM_WORKER_PROTO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/calls.h"
#include "vmm/manager.h"
#include "vmm/policy.h"
#include "vmm/vm-stop.h"

#define WORKER_PROTO_VERSION 1
#define WORKER_MSG_HEADER 16
#define WORKER_MSG_MAX (64 * 1024)      /* one message, header included */
#define WORKER_TEXT_MAX 4096            /* a stop message, an error */
#define WORKER_NAME_MAX 64              /* a VM name (VM_NAME_MAX) */
#define WORKER_CONFIG_MAX (WORKER_MSG_MAX - 1024) /* BUILD's JSON config */
#define WORKER_CLAIMS_MAX 64            /* monitor claims in START */
#define WORKER_VCPU_MAX 4096            /* VMM_CONFIG_MAX_VCPUS */

#define WORKER_PROTO_ERROR (worker_proto_error_quark())
GQuark worker_proto_error_quark(void);
typedef enum {
    WORKER_PROTO_MALFORMED,   /* does not decode: the sender is killed */
    WORKER_PROTO_IO,          /* the channel failed or closed */
    WORKER_PROTO_TOO_BIG,     /* an encoder's input over a bound */
} WorkerProtoError;

typedef enum {
    /* either way */
    WMSG_HELLO = 1,           /* version */
    /* manager -> worker */
    WMSG_BUILD = 2,           /* vm_id, timeouts, guest_id_zero, console_continues, name, config */
    WMSG_START = 3,           /* policy, claims */
    WMSG_PAUSE = 4,
    WMSG_RESUME = 5,
    WMSG_STOP = 6,            /* reason, status, message */
    WMSG_TEARDOWN = 7,
    WMSG_STATS = 8,           /* answered by CALL_STATS with its seq */
    WMSG_HOST_CALL_REPLY = 9, /* result, out */
    WMSG_FORWARD_REPLY = 10,  /* handled, call_status, ret */
    /* worker -> manager */
    WMSG_REPLY = 16,          /* ok, code, message (the error) */
    WMSG_STOPPED = 17,        /* reason, status, message */
    WMSG_CALL_STATS = 18,     /* ucall_rejected, counts */
    WMSG_HOST_CALL = 19,      /* op, arg */
    WMSG_CALL_REFUSED = 20,   /* vcpu, call, verdict */
    WMSG_FORWARD = 21,        /* vcpu, call, conduit, args */
} worker_msg_type;

/* Who sent a message: each side decodes only the other's types. */
typedef enum { WORKER_FROM_MANAGER, WORKER_FROM_WORKER } worker_peer;

struct worker_claim {
    uint32_t first, last;
    uint32_t timeout_ms;
};

/* One message, decoded (strings are its own copies: worker_msg_clear). */
struct worker_msg {
    worker_msg_type type;
    uint64_t seq;
    uint32_t version;                         /* HELLO */
    /* BUILD */
    uint64_t vm_id;                           /* the id the guest sees */
    uint32_t pause_timeout_ms, host_call_timeout_ms;
    bool guest_id_zero;
    bool console_continues;                   /* a rebuild: append to its console file */
    char *name;
    char *config;                             /* vm-create's JSON form */
    /* START */
    struct vm_policy policy;                  /* role, flags, services, manageable */
    unsigned n_claims;
    struct worker_claim claims[WORKER_CLAIMS_MAX];
    /* STOP, STOPPED; REPLY (ok, code, message: the error when !ok) */
    vm_stop_reason reason;
    int status;                               /* 0..255 */
    char *message;                            /* NULL: none */
    bool ok;
    uint32_t code;                            /* ManagerError */
    /* CALL_STATS: [call_table_len + 1][CALL_VERDICT_COUNT] */
    uint64_t ucall_rejected;
    uint64_t *counts;
    size_t n_counts;
    /* HOST_CALL, HOST_CALL_REPLY */
    manager_host_op op;
    uint64_t arg;
    int result;                               /* 0 or -errno */
    uint64_t out[2];
    /* CALL_REFUSED, FORWARD, FORWARD_REPLY */
    uint32_t vcpu, call;
    call_verdict verdict;
    call_conduit conduit;
    uint64_t args[4];
    bool handled;
    call_status call_status;
    uint64_t ret[4];
};

void worker_msg_clear(struct worker_msg *msg);
/* @msg as bytes (appended to @out): false when a field is over its bound. */
bool worker_msg_encode(const struct worker_msg *msg, GByteArray *out, GError **error);
/* Checks everything (see above); on failure @msg is left cleared and the
 * error (WORKER_PROTO_MALFORMED) says what was wrong. */
bool worker_msg_decode(const uint8_t *buf, size_t len, worker_peer from,
                       struct worker_msg *msg, GError **error);
const char *worker_msg_type_name(worker_msg_type type);

/* One message on a SOCK_SEQPACKET socket (thread-safe per packet), with
 * write(): the process must ignore SIGPIPE, as vmm does. */
bool worker_msg_send(int fd, const struct worker_msg *msg, GError **error);
/* Receives and decodes one message from @from, waiting at most until
 * @deadline (monotonic µs; G_MAXINT64: for ever): 1 a message, 0 the
 * deadline passed, -1 an error (the peer closed, a malformed message). */
int worker_msg_recv(int fd, worker_peer from, gint64 deadline, struct worker_msg *msg,
                    GError **error);

#endif
