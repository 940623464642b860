/*
 * The guest call dispatcher: one table of calls (from VMM_CALL_LIST), one
 * pure decision on whether a VM may make a call, one handler prototype. The conduits
 * (src/arch/<arch>/: vmcall, hvc/smc; src/calls/ucall.c: the ucall doorbell) decode
 * registers into a struct guest_call and encode the outcome back the way
 * their architecture refuses calls.
 */
#ifndef VMM_CALLS_H
#define VMM_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "vmm/policy.h"
#include "vmm-guest/call-list.h"

struct vcpu;
struct vm;
struct vm_host_ops;

typedef enum { CONDUIT_VMCALL, CONDUIT_HVC, CONDUIT_SMC, CONDUIT_UCALL } call_conduit;

/* What a handler reports; conduits encode it for their architecture. */
typedef enum { CALL_OK, CALL_NOT_SUPPORTED, CALL_INVALID } call_status;

struct guest_call {
    uint32_t id;
    uint64_t args[4];        /* a1..a4: the first nr_args_read of them (below) */
    uint64_t ret[4];         /* results, valid when the handler returns CALL_OK */
    /*
     * A conduit that pays for each register (aarch64: one ioctl each)
     * leaves args[] empty and sets read_args; call_need_args() then reads
     * only the arguments an allowed call's handler takes (its nargs), or
     * all four for a monitor. read_args fills args[nr_args_read..n-1] and
     * returns false (having stopped the VM) if it cannot. NULL: args[] is
     * complete.
     */
    bool (*read_args)(struct guest_call *call, unsigned n);
    unsigned nr_args_read;
    /* Set by call_dispatch() when the call is allowed and answered: how
     * many of ret[] hold results (the entry's nr_results, or all four when
     * a monitor answered); a conduit needs to write back only those. */
    unsigned nr_results;
    call_conduit conduit;
    unsigned privilege;      /* x86 CPL; 0 elsewhere */
    /* ucall only: copied out of guest memory before the handler runs */
    const char *text;
    size_t text_len, file_len;
    unsigned line;
};

typedef call_status (*call_handler_fn)(struct vcpu *vcpu, struct guest_call *call);

struct call_entry {
    uint32_t first, last;    /* function ID range */
    const char *name;
    call_handler_fn handler;
    uint32_t perm;           /* 0: service VMs only; else GUEST_FLAG() bits, all required */
    service_id service;      /* the bit in the VM's service bitmap that enables it */
    unsigned nr_results;     /* result registers the handler fills */
    unsigned nr_args;        /* argument registers the handler reads */
    bool probe;              /* a discovery query guests make unasked (Linux at
                              * boot): refusals are counted, not logged */
};

typedef enum {
    CALL_ALLOWED,
    CALL_REFUSED_NO_CALLS,    /* the VM may make no call at all (x86: #UD) */
    CALL_REFUSED_PRIVILEGE,   /* outside ring 0 (x86: #GP(0)) */
    CALL_REFUSED_UNKNOWN,     /* no such function */
    CALL_REFUSED_SERVICE,     /* the service is off in the VM's bitmap */
    CALL_REFUSED_ROLE,        /* service-only call from a non-service VM */
    CALL_REFUSED_FLAGS,       /* the VM lacks a flag the call needs */
    CALL_VERDICT_COUNT
} call_verdict;
extern const char *const call_verdict_names[CALL_VERDICT_COUNT];

extern const struct call_entry call_table[];
extern const size_t call_table_len;
/* The table (VMM_CALL_LIST) is sorted, its ranges disjoint, its entries
 * complete: call_lookup() relies on it (tests/unit/test_calls.c checks). */
bool call_table_check(void);

/* The handlers (calls_info.c, calls_vm.c, ucall.c), one per entry of
 * VMM_CALL_LIST. */
#define CALL_HANDLER_PROTOTYPE(c, id, name, handler, ...) \
    call_status handler(struct vcpu *vcpu, struct guest_call *call);
VMM_CALL_LIST(CALL_HANDLER_PROTOTYPE)
#undef CALL_HANDLER_PROTOTYPE

/* The entry serving @id, or NULL. O(log n). */
const struct call_entry *call_lookup(uint32_t id);

/* Pure: may a VM with policy @p make the call of entry @e (NULL: unknown
 * ID) at privilege level @privilege? No ioctls, no state. */
call_verdict call_decide(const struct vm_policy *p, const struct call_entry *e,
                         unsigned privilege);

/* Decides, counts, logs refusals (rate-limited), and runs the handler when
 * allowed; @call->ret is preset to a refusal before any handler runs.
 * Returns the verdict; *status is the handler's result when allowed. */
call_verdict call_dispatch(struct vcpu *vcpu, struct guest_call *call, call_status *status);

/* Makes args[0..n-1] of @call valid, reading the registers not read yet
 * through its conduit's read_args. False if they cannot be read (the VM is
 * stopping). */
bool call_need_args(struct guest_call *call, unsigned n);

/* Per-VM counters: index call_table_len counts unknown IDs. */
struct call_stats {
    uint64_t (*count)[CALL_VERDICT_COUNT]; /* [call_table_len + 1] */
    uint64_t ucall_rejected;               /* doorbell values refused */
    GMutex log_lock;
    gint64 log_window;                     /* monotonic second of the window */
    unsigned log_lines, log_suppressed;
    /* ucall sync lines: a burst (a test's stages), then a steady few */
    double sync_tokens;
    gint64 sync_refilled;                  /* monotonic µs of the last refill */
    unsigned sync_suppressed;
};
void call_stats_init(struct call_stats *s);
void call_stats_clear(struct call_stats *s);
/* One counter: @entry indexes call_table, call_table_len is "unknown ID". */
uint64_t call_stats_get(const struct call_stats *s, size_t entry, call_verdict v);
/* A line about what a vCPU's guest did (a refused call, a ucall sync):
 * rate-limited per VM, a few lines a second, then only counted. */
void call_log_guest(struct vcpu *vcpu, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A ucall sync's line: up to SYNC_LOG_BURST at once, then SYNC_LOG_RATE a
 * second per VM, the rest counted. */
#define SYNC_LOG_BURST 256
#define SYNC_LOG_RATE 10
void call_log_sync(struct vcpu *vcpu, uint64_t stage);

/*
 * A VM's guest-call state, owned by this layer (vm_calls.c). The VM holds
 * it as vm->calls, opaque to core; the conduits reach it from the exit
 * path as vcpu->vm->calls. vm_create() makes it through vm_calls_ops,
 * which is also how core tells this layer the VM starts or goes away.
 */
struct vm_calls {
    GMutex lock;                     /* the policy's writers and its fixing */
    struct vm_policy policy;         /* fixed (frozen) once the VM first runs */
    struct call_stats stats;
    uint64_t ucall_gpa;              /* the per-vCPU ucall areas (vmm-guest/calls.h) */
    const struct vm_host_ops *host;  /* NULL: no manager (vmm/vm-host.h) */
    void *host_data;
};
/* The hooks core calls (vmm/vm.h): what vm_build() hands vm_create(). */
extern const struct vm_calls_ops vm_calls_ops;
/* A default policy (policy_init) and zeroed counters; freed by vm_calls_free. */
struct vm_calls *vm_calls_new(void);
void vm_calls_free(struct vm_calls *calls);
/* Replaces the VM's call policy; false (with the reason) once it has run. */
bool vm_set_policy(struct vm *vm, const struct vm_policy *policy, GError **error);

#endif
