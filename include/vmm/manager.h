/*
 * The VM manager: the set of VMs one vmm process runs, by name and by
 * number, with their states, the images a service guest may start, and the
 * quotas that bound it. The control socket's handlers and the guests'
 * management calls (struct vm_host_ops) both come here; neither touches
 * KVM. All state changes happen on the manager's main context; calls from
 * vCPU threads are handed to it and waited for with a bound. The manager
 * reaches a VM only through its backend (struct manager_backend): KVM in
 * vmm (manager_kvm.c, the one manager file that knows struct vm), a fake
 * in the unit tests and the fuzzer (tests/fake_backend.c).
 */
#ifndef VMM_MANAGER_H
#define VMM_MANAGER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/calls.h"
#include "vmm/config.h"
#include "vmm/policy.h"
#include "vmm/vm-host.h" /* manager_kvm_host_ops */
#include "vmm/vm-stop.h"
#include "vmm/wait.h"

struct kvm;
struct manager;
struct vm_host_ops;

#define MANAGER_ERROR (manager_error_quark())
GQuark manager_error_quark(void);
typedef enum {
    MANAGER_ERROR_NO_VM,      /* no VM by that name or number */
    MANAGER_ERROR_STATE,      /* not in a state that allows it */
    MANAGER_ERROR_EXISTS,     /* a VM of that name exists */
    MANAGER_ERROR_QUOTA,      /* over a quota */
    MANAGER_ERROR_DENIED,     /* the caller may not manage that VM */
    MANAGER_ERROR_UNSUPPORTED,/* the guest cannot be asked that */
    MANAGER_ERROR_FAILED,     /* KVM, config or host failure (message says) */
} ManagerError;

typedef enum { MVM_PRELAUNCH, MVM_RUNNING, MVM_PAUSED, MVM_SHUTDOWN } mvm_state;
/* QMP's RunState names: "prelaunch", "running", "paused", "shutdown". */
const char *mvm_state_name(mvm_state s);

/* One VM as the manager knows it. */
struct mvm {
    uint64_t id;              /* 1, 2, ...: never reused */
    char *name;
    mvm_state state;
    /* What it was built from (kept for reset): read-only. A VM made from
     * an image borrows the image's parsed config (its paths and file
     * bytes); only cfg.name is its own then. */
    struct vmm_config cfg;
    bool cfg_borrowed;
    struct vm_policy policy;  /* what it will run with (set-policy edits it) */
    uint64_t owner;           /* the service VM that created it, 0: the host */
    bool start_at_launch;     /* the manager config says start = true */
    void *vm;                 /* the backend's VM (KVM: struct vm); NULL between a
                               * failed rebuild and destroy */
    struct console *console;
    struct manager *manager;
    /* Which build of which VM a stop report is about: the generation is
     * bumped on every teardown, so a stop of an older build is ignored.
     * build_ref is the current build's: the backend hands it back with
     * the stop report and the guest's calls. */
    unsigned generation;
    struct mvm_ref {
        struct manager *m;
        struct mvm *mv;       /* valid on the VM's vCPU threads: destroy joins them first */
        uint64_t id;
        unsigned generation;
    } *build_ref;
    /* Function-ID ranges claimed by external monitors (monitor-calls):
     * only added in prelaunch, so vCPU threads read them unlocked. */
    GArray *claims;           /* struct manager_claim */
    /* Once it has stopped: */
    bool stopped;
    const char *stop_reason;  /* "guest-exit", "poweroff", ... */
    int exit_status;
    char *stop_message;
};

/* How VMs are made and driven: KVM in vmm, a fake in unit tests. The
 * backend calls back into the manager with mv->build_ref: the guest's
 * calls (manager_host_call() and the rest below, on its vCPU threads) and
 * the stop report (manager_vm_stopped(), from any thread, once every vCPU
 * has returned). */
struct manager_backend {
    /* Builds mv->vm from mv->cfg; nothing runs. */
    bool (*build)(struct manager *m, struct mvm *mv, GError **error);
    /* Applies mv->policy and starts the vCPUs. */
    bool (*start)(struct mvm *mv, GError **error);
    bool (*pause)(struct mvm *mv, GError **error);
    void (*resume)(struct mvm *mv);
    /* Asks the VM to end for @reason with exit @status and @message (may
     * be NULL); the first stop wins. Does not wait. */
    void (*stop)(struct mvm *mv, vm_stop_reason reason, int status, const char *message);
    /* Waits for the vCPUs and frees mv->vm (mv->console, which lives
     * from create to destroy across rebuilds, is the manager's to close). */
    void (*teardown)(struct mvm *mv);
    /* Why and how it stopped: read once its stop was reported. */
    const struct vm_stop *(*stop_report)(struct mvm *mv);
    /* Its guest calls' counters. */
    const struct call_stats *(*call_stats)(struct mvm *mv);
    /* On a vCPU thread of @mv, around a wait on @wake for the manager (a
     * host call, a monitor's answer): the vCPU counts as still meanwhile
     * (stop/cont), and a stop of @mv wakes @wake. */
    void (*block)(struct mvm *mv, struct vmm_wait *wake);
    void (*unblock)(struct mvm *mv, struct vmm_wait *wake);
    /* @mv has been asked to stop (from any thread). */
    bool (*stopping)(struct mvm *mv);
};
extern const struct manager_backend manager_kvm_backend;


/* A range of guest calls an external monitor answers. */
struct manager_claim {
    uint32_t first, last;
    const void *owner;        /* the monitor (a control socket session); NULL once gone */
    unsigned timeout_ms;
    int dead;                 /* atomic: gone or too slow: its calls are refused */
};

/* An image a service guest may start, by its index in this list. Parsed
 * (and its firmware or kernel read) once, when vmm serve starts: a guest's
 * VM_CREATE does no file I/O, and files changed later change nothing. */
struct manager_image {
    char *name;
    char *config;             /* path of its VM config */
    struct vmm_config cfg;    /* parsed, with the policy made restricted */
};

struct manager_quota {
    unsigned vms;             /* VMs one service guest may have at once */
    uint64_t memory;          /* bytes, over those VMs */
    unsigned vcpus;
};

typedef enum {
    MEV_VM_STARTED,
    MEV_STOP,
    MEV_RESUME,
    MEV_RESET,
    MEV_SHUTDOWN,
    MEV_VM_DESTROYED,
    MEV_GUEST_CRASHED,
    MEV_HYPERCALL_DENIED,
    MEV_GUEST_CALL,
} manager_event_kind;

/* A notification for the control socket; valid during the callback only. */
struct manager_event {
    manager_event_kind kind;
    const char *vm;
    uint64_t id;
    bool guest;               /* RESET, SHUTDOWN: the guest asked for it */
    const char *reason;       /* SHUTDOWN/RESET: why; HYPERCALL_DENIED: the verdict */
    int status;               /* SHUTDOWN: the exit status */
    const char *message;      /* GUEST_CRASHED: the register summary */
    unsigned vcpu;            /* HYPERCALL_DENIED, GUEST_CALL */
    uint32_t call;
    const char *conduit;      /* GUEST_CALL */
    uint64_t args[4];
    uint64_t token;
    const void *target;       /* non-NULL: only for this monitor */
};
typedef void (*manager_event_fn)(const struct manager_event *ev, void *opaque);

struct manager {
    GMainContext *ctx;
    const struct manager_backend *backend;
    struct kvm *kvm;          /* the KVM backend's /dev/kvm; NULL: none */
    char *kvm_error;          /* why there is none, for vm-create's error */
    GPtrArray *vms;           /* struct mvm *, in creation order */
    uint64_t next_id;
    GArray *images;           /* struct manager_image */
    struct manager_quota quota;
    char *default_vm;         /* vmm run --qmp: commands without "vm" act on it */
    unsigned pause_timeout_ms;
    unsigned host_call_timeout_ms;
    unsigned max_clients;     /* the manager config's [control] max-clients; 0: unset */
    /* vmm run without a control socket: nothing can ever name its one VM,
     * whose guest sees VM id 0 (docs/abi.md, whoami), as with no manager. */
    bool guest_id_zero;
    manager_event_fn on_event;
    void *on_event_data;
    /* Called when a VM has stopped (on the main context), e.g. to end
     * vmm run when its one VM ends. */
    void (*on_vm_stopped)(struct manager *m, struct mvm *mv, void *opaque);
    void *on_vm_stopped_data;
    /* The backend's own settings (the worker backend: its launcher). */
    const void *backend_data;
    /* In a worker: where the VM's callbacks go (NULL: here). */
    const struct manager_upstream *upstream;
    void *upstream_data;
    /* Guest calls waiting for a monitor's call-return, by token, under
     * monitor's lock; a call-return (or a monitor gone) wakes them. */
    struct vmm_wait monitor;
    GHashTable *pending;
    uint64_t next_token;
};

/* @ctx NULL: the default main context. */
void manager_init(struct manager *m, const struct manager_backend *backend, GMainContext *ctx);
/* Destroys every VM. */
void manager_clear(struct manager *m);

/* The manager's own config (vmm serve --config): images, quota, VMs to
 * create at start-up (those marked start = true are started). */
bool manager_load_config(struct manager *m, const char *path, GError **error);
bool manager_start_configured(struct manager *m, GError **error);

/* Reads and checks the VM config at @path as image @name (the next index). */
bool manager_add_image(struct manager *m, const char *name, const char *path,
                       GError **error);

/* The control socket's operations, by VM name. */
struct mvm *manager_find(struct manager *m, const char *name, GError **error);
struct mvm *manager_find_id(struct manager *m, uint64_t id);
/* Takes @cfg's contents (it is left cleared); @name NULL keeps cfg's. */
struct mvm *manager_create(struct manager *m, const char *name, struct vmm_config *cfg,
                           uint64_t owner, GError **error);
/* A VM from image @index, owned by @owner: it borrows the image's config. */
struct mvm *manager_create_from_image(struct manager *m, const char *name, guint index,
                                      uint64_t owner, GError **error);
bool manager_start(struct manager *m, const char *name, GError **error);
bool manager_pause(struct manager *m, const char *name, GError **error);
bool manager_resume(struct manager *m, const char *name, GError **error);
bool manager_reset(struct manager *m, const char *name, GError **error);
bool manager_powerdown(struct manager *m, const char *name, GError **error);
bool manager_destroy(struct manager *m, const char *name, GError **error);
/* Ends a running or paused VM for @reason with exit @status and @message
 * (a service guest's stop call, a signal, a timeout): it becomes shut down
 * once its vCPUs have returned, and its stop is reported as any other. */
bool manager_end(struct manager *m, struct mvm *mv, vm_stop_reason reason, int status,
                 const char *message, GError **error);
/* Destroys one. */
bool manager_destroy_vm(struct manager *m, struct mvm *mv);
/* @mv will never be rebuilt (vmm run without a control socket): the copies
 * of its kernel and initrd, in guest RAM now, would only cost memory. */
void manager_drop_boot_images(struct mvm *mv);
bool manager_set_policy(struct manager *m, const char *name, const struct vm_policy *p,
                        GError **error);
/* @mv's call counters (call_stats_get(): @entry indexes call_table,
 * call_table_len counts unknown IDs; ucall_rejected: doorbell values
 * refused before any call was made), or NULL when it has no VM. Read them
 * all from one fetch: with workers each fetch is a round trip. */
const struct call_stats *manager_call_stats(struct mvm *mv);

/* External monitors (manager_monitor.c). @owner identifies the monitor
 * (its session); claims are made in prelaunch, and must not overlap. */
bool manager_monitor_calls(struct manager *m, const char *name, const void *owner,
                           uint32_t first, uint32_t last, unsigned timeout_ms, GError **error);
/* A monitor's answer to the call @token: up to 4 results. */
bool manager_call_return(struct manager *m, const void *owner, uint64_t token,
                         const uint64_t *results, unsigned n, GError **error);
/* The monitor has gone: its pending and later calls are refused. */
void manager_monitor_gone(struct manager *m, const void *owner);

/* Emits an event (on the main context). */
void manager_emit(struct manager *m, const struct manager_event *ev);

struct manager_upstream;

/* What a backend calls: the guest calls of the VM built as @vm (its
 * build_ref), on one of its vCPU threads, and its stop report. */
typedef enum {
    MANAGER_HOST_CREATE,      /* image index -> out[0]: the new VM's number */
    MANAGER_HOST_START,       /* VM number */
    MANAGER_HOST_STOP,        /* VM number */
    MANAGER_HOST_DESTROY,     /* VM number */
    MANAGER_HOST_QUERY,       /* VM number -> out[0]: guest_vm_state, out[1]: exit status */
} manager_host_op;
/* A service guest's management call, handed to the main context and
 * waited for (bounded): 0 or -errno (vm-host.h; -ETIMEDOUT when the main
 * loop did not take it in time or the caller's VM is stopping). */
int manager_host_call(struct mvm_ref *vm, manager_host_op op, uint64_t arg, uint64_t out[2]);
/* A refused call (HYPERCALL_DENIED): posted, never waits. */
void manager_call_refused(struct mvm_ref *vm, unsigned vcpu, uint32_t id, const char *reason);
/* A call the policy allowed: true when a monitor claims it (manager_monitor.c). */
bool manager_forward_call(struct mvm_ref *vm, unsigned vcpu, struct guest_call *call,
                          call_status *status);
/* Every vCPU of the build @vm has returned (any thread). */
void manager_vm_stopped(struct mvm_ref *vm);
/* In a worker process (worker_serve(), vmm/worker.h) the manager is in
 * another process: the four calls above, on the worker's one VM, go up
 * its channel instead of to this process's VM set. */
struct manager_upstream {
    int (*host_call)(struct mvm_ref *vm, manager_host_op op, uint64_t arg, uint64_t out[2]);
    void (*call_refused)(struct mvm_ref *vm, unsigned vcpu, uint32_t id, const char *reason);
    bool (*forward_call)(struct mvm_ref *vm, unsigned vcpu, struct guest_call *call,
                         call_status *status);
    void (*vm_stopped)(struct mvm_ref *vm);
};
/* The KVM backend's hooks for a struct vm's guest calls (vm->host). */
extern const struct vm_host_ops manager_kvm_host_ops;

#endif
