/*
 * The worker's side of the channel (vmm/worker.h): one VM, driven by the
 * manager's commands in order on this thread, through an inner backend.
 * What the inner backend reports about the VM (its stop, its guest's host
 * calls, calls for a monitor, refused calls) reaches this process's
 * manager functions, whose upstream hooks send it to the manager; the two
 * that wait for an answer wait on their vCPU thread, as still as a paused
 * vCPU, until it comes or the VM stops (the manager bounds its own side).
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/worker.h"
#include "vmm/worker_proto.h"

struct worker {
    int fd;
    const struct manager_backend *inner;
    worker_lockdown_fn lockdown;
    void *lockdown_data;
    struct manager m;         /* this process's: only its hooks and timeouts are used */
    struct mvm *mv;           /* NULL before BUILD */
    GMutex lock;              /* pending, next_seq */
    GHashTable *pending;      /* seq -> struct upcall */
    uint64_t next_seq;
    bool gone;                /* the channel has closed: nothing more to send */
};

/* A message to the manager that waits for its answer. */
struct upcall {
    uint64_t seq;
    struct vmm_wait wait;     /* its lock guards done and answer */
    bool done;
    struct worker_msg answer;
    struct mvm *mv;
    const struct manager_backend *inner;
};

static void send_or_log(struct worker *w, struct worker_msg *msg)
{
    g_autoptr(GError) err = NULL;

    /* A lost channel ends the main loop (and so the VM): nothing more to do. */
    if (!__atomic_load_n(&w->gone, __ATOMIC_ACQUIRE) && !worker_msg_send(w->fd, msg, &err))
        vmm_log("worker: %s", err->message);
}

static bool answered_or_stopping(void *data)
{
    struct upcall *u = data;

    return u->done || u->inner->stopping(u->mv);
}

/* Sends @msg and waits for the manager's answer (or the VM's stop):
 * false when none came. */
static bool upcall(struct worker *w, struct mvm *mv, struct worker_msg *msg,
                   struct worker_msg *answer)
{
    struct upcall u = { .mv = mv, .inner = w->inner };
    bool done;

    vmm_wait_init(&u.wait);
    g_mutex_lock(&w->lock);
    u.seq = msg->seq = ++w->next_seq;
    g_hash_table_insert(w->pending, &u.seq, &u);
    g_mutex_unlock(&w->lock);
    w->inner->block(mv, &u.wait);
    send_or_log(w, msg);
    vmm_wait_lock(&u.wait);
    vmm_wait_until(&u.wait, G_MAXINT64, answered_or_stopping, &u);
    vmm_wait_unlock(&u.wait);
    w->inner->unblock(mv, &u.wait);
    g_mutex_lock(&w->lock);
    g_hash_table_remove(w->pending, &u.seq);
    g_mutex_unlock(&w->lock);
    /* Nobody else can reach it now. */
    done = u.done;
    *answer = u.answer;
    vmm_wait_clear(&u.wait);
    return done;
}

static struct worker *worker_of(struct mvm_ref *vm)
{
    return vm->m->upstream_data;
}

static int up_host_call(struct mvm_ref *vm, manager_host_op op, uint64_t arg, uint64_t out[2])
{
    struct worker_msg msg = { .type = WMSG_HOST_CALL, .op = op, .arg = arg }, answer;

    if (!upcall(worker_of(vm), vm->mv, &msg, &answer))
        return -ETIMEDOUT; /* the VM stops: as the manager's own wait would end */
    if (!answer.result && out) {
        out[0] = answer.out[0];
        out[1] = answer.out[1];
    }
    return answer.result;
}

static void up_call_refused(struct mvm_ref *vm, unsigned vcpu, uint32_t id, const char *reason)
{
    struct worker_msg msg = { .type = WMSG_CALL_REFUSED, .vcpu = vcpu, .call = id };

    for (int v = CALL_REFUSED_NO_CALLS; v < CALL_VERDICT_COUNT; v++)
        if (!strcmp(reason, call_verdict_names[v]))
            msg.verdict = v;
    if (msg.verdict != CALL_ALLOWED)
        send_or_log(worker_of(vm), &msg);
}

static bool up_forward_call(struct mvm_ref *vm, unsigned vcpu, struct guest_call *call,
                            call_status *status)
{
    struct worker_msg msg = { .type = WMSG_FORWARD, .vcpu = vcpu, .call = call->id,
                              .conduit = call->conduit }, answer;
    GArray *claims = vm->mv->claims;
    bool claimed = false;

    /* Only a claimed call leaves the process (START sent the claims). */
    for (guint i = 0; claims && i < claims->len && !claimed; i++) {
        const struct manager_claim *c = &g_array_index(claims, struct manager_claim, i);

        claimed = call->id >= c->first && call->id <= c->last;
    }
    if (!claimed)
        return false;
    *status = CALL_NOT_SUPPORTED;
    memset(call->ret, 0, sizeof(call->ret));
    if (!call_need_args(call, 4))
        return true;
    memcpy(msg.args, call->args, sizeof(msg.args));
    if (!upcall(worker_of(vm), vm->mv, &msg, &answer))
        return true;
    if (answer.handled) {
        *status = answer.call_status;
        memcpy(call->ret, answer.ret, sizeof(call->ret));
    }
    return answer.handled;
}

/* The VM's counters, as CALL_STATS (@seq: the STATS it answers, 0: unasked). */
static void send_stats(struct worker *w, uint64_t seq)
{
    size_t n = (call_table_len + 1) * CALL_VERDICT_COUNT;
    g_autofree uint64_t *counts = g_new(uint64_t, n);
    const struct call_stats *s = w->inner->call_stats(w->mv);
    struct worker_msg msg = { .type = WMSG_CALL_STATS, .seq = seq, .counts = counts,
                              .n_counts = n };

    for (size_t e = 0; e <= call_table_len; e++)
        for (size_t v = 0; v < CALL_VERDICT_COUNT; v++)
            counts[e * CALL_VERDICT_COUNT + v] = call_stats_get(s, e, v);
    msg.ucall_rejected = __atomic_load_n(&s->ucall_rejected, __ATOMIC_RELAXED);
    send_or_log(w, &msg);
}

/* Any thread: the last vCPU has returned. */
static void up_vm_stopped(struct mvm_ref *vm)
{
    struct worker *w = worker_of(vm);
    const struct vm_stop *stop = w->inner->stop_report(vm->mv);
    struct worker_msg msg = { .type = WMSG_STOPPED, .reason = stop->reason,
                              .status = stop->status & 0xff };
    g_autofree char *message = stop->message ? g_utf8_make_valid(stop->message, -1) : NULL;

    if (msg.reason == VM_STOP_NONE)
        msg.reason = VM_STOP_ERROR;
    if (message && strlen(message) > WORKER_TEXT_MAX)
        message[WORKER_TEXT_MAX] = 0; /* may cut a character: made valid again below */
    msg.message = message ? g_utf8_make_valid(message, -1) : NULL;
    send_stats(w, 0); /* its last counters, before the worker may go */
    send_or_log(w, &msg);
    g_free(msg.message);
}

static const struct manager_upstream worker_upstream = {
    .host_call = up_host_call,
    .call_refused = up_call_refused,
    .forward_call = up_forward_call,
    .vm_stopped = up_vm_stopped,
};

/* --- the manager's commands -------------------------------------------------- */

static void free_vm(struct worker *w)
{
    struct mvm *mv = w->mv;

    console_close(mv->console);
    if (mv->claims)
        g_array_free(mv->claims, TRUE);
    config_clear(&mv->cfg);
    g_free(mv->build_ref);
    g_free(mv->name);
    g_free(mv);
    w->mv = NULL;
}

static bool build(struct worker *w, const struct worker_msg *cmd, GError **error)
{
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GError) jerr = NULL;
    struct mvm *mv;

    node = json_from_string(cmd->config, &jerr);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "the VM config is not a JSON "
                    "object: %s", jerr ? jerr->message : "another value");
        return false;
    }
    mv = g_new0(struct mvm, 1);
    mv->id = cmd->vm_id;
    mv->name = g_strdup(cmd->name);
    mv->manager = &w->m;
    mv->state = MVM_PRELAUNCH;
    config_init(&mv->cfg);
    w->m.pause_timeout_ms = cmd->pause_timeout_ms;
    w->m.host_call_timeout_ms = cmd->host_call_timeout_ms;
    w->m.guest_id_zero = cmd->guest_id_zero;
    w->mv = mv;
    if (!config_load_json(&mv->cfg, node, "config", error))
        goto fail;
    g_free(mv->cfg.name);
    mv->cfg.name = g_strdup(mv->name);
    mv->policy = mv->cfg.policy;
    /* A rebuild (system_reset) runs in a new worker: its console goes on
     * in the same file rather than starting it over. */
    if (cmd->console_continues && mv->cfg.console_file &&
        !(mv->console = console_reopen(mv->cfg.console_file, error)))
        goto fail;
    mv->build_ref = g_new(struct mvm_ref, 1);
    *mv->build_ref = (struct mvm_ref){ .m = &w->m, .mv = mv, .id = mv->id };
    if (!w->inner->build(&w->m, mv, error))
        goto fail;
    if (!w->lockdown || w->lockdown(mv, w->lockdown_data, error))
        return true;
    w->inner->teardown(mv);
fail:
    free_vm(w);
    return false;
}

static bool start(struct worker *w, const struct worker_msg *cmd, GError **error)
{
    struct mvm *mv = w->mv;

    mv->policy = cmd->policy;
    if (!mv->claims)
        mv->claims = g_array_new(FALSE, FALSE, sizeof(struct manager_claim));
    g_array_set_size(mv->claims, 0);
    for (unsigned i = 0; i < cmd->n_claims; i++) {
        struct manager_claim c = { cmd->claims[i].first, cmd->claims[i].last, w,
                                   cmd->claims[i].timeout_ms, 0 };

        g_array_append_val(mv->claims, c);
    }
    return w->inner->start(mv, error);
}

/* Runs one command: false with @error for the manager. */
static bool run_command(struct worker *w, const struct worker_msg *cmd, GError **error)
{
    if (cmd->type == WMSG_BUILD) {
        if (!w->mv)
            return build(w, cmd, error);
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_STATE, "a worker runs one VM");
        return false;
    }
    if (!w->mv) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_STATE, "no VM built yet");
        return false;
    }
    switch (cmd->type) {
    case WMSG_START:
        return start(w, cmd, error);
    case WMSG_PAUSE:
        return w->inner->pause(w->mv, error);
    case WMSG_RESUME:
        w->inner->resume(w->mv);
        return true;
    case WMSG_STOP:
        w->inner->stop(w->mv, cmd->reason, cmd->status, cmd->message);
        return true;
    case WMSG_TEARDOWN:
        w->inner->teardown(w->mv);
        free_vm(w);
        return true;
    default:
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "not a command: %s",
                    worker_msg_type_name(cmd->type));
        return false;
    }
}

/* The manager's answer to an upcall. */
static void answer(struct worker *w, struct worker_msg *msg)
{
    struct upcall *u;

    g_mutex_lock(&w->lock);
    u = g_hash_table_lookup(w->pending, &msg->seq);
    if (u) {
        vmm_wait_lock(&u->wait);
        u->answer = *msg;
        u->done = true;
        vmm_wait_wake_locked(&u->wait);
        vmm_wait_unlock(&u->wait);
    }
    g_mutex_unlock(&w->lock);
}

int worker_serve(int fd, const struct manager_backend *inner, struct kvm *kvm,
                 worker_lockdown_fn lockdown, void *lockdown_data)
{
    struct worker w = { .fd = fd, .inner = inner, .lockdown = lockdown,
                        .lockdown_data = lockdown_data };
    struct worker_msg hello = { .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION };
    GMainContext *ctx = g_main_context_new();
    int status = 0;

    manager_init(&w.m, inner, ctx);
    g_main_context_unref(ctx);
    w.m.kvm = kvm;
    w.m.upstream = &worker_upstream;
    w.m.upstream_data = &w;
    g_mutex_init(&w.lock);
    w.pending = g_hash_table_new(g_int64_hash, g_int64_equal);
    send_or_log(&w, &hello);
    for (;;) {
        g_autoptr(GError) err = NULL;
        struct worker_msg cmd;
        int r = worker_msg_recv(fd, WORKER_FROM_MANAGER, G_MAXINT64, &cmd, &err);

        if (r < 0) {
            __atomic_store_n(&w.gone, true, __ATOMIC_RELEASE);
            if (!g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_IO)) {
                vmm_log("worker: %s", err->message);
                status = 1;
            }
            break;
        }
        if (r == 0)
            continue;
        if (cmd.type == WMSG_HOST_CALL_REPLY || cmd.type == WMSG_FORWARD_REPLY) {
            answer(&w, &cmd);
            continue;
        }
        if (cmd.type == WMSG_STATS && w.mv) {
            send_stats(&w, cmd.seq);
        } else if (cmd.type != WMSG_HELLO) {
            struct worker_msg reply = { .type = WMSG_REPLY, .seq = cmd.seq };
            bool teardown = cmd.type == WMSG_TEARDOWN;

            reply.ok = run_command(&w, &cmd, &err);
            if (!reply.ok) {
                reply.code = err->domain == MANAGER_ERROR ? (uint32_t)err->code
                                                          : MANAGER_ERROR_FAILED;
                reply.message = g_strndup(err->message, WORKER_TEXT_MAX);
            }
            send_or_log(&w, &reply);
            g_free(reply.message);
            worker_msg_clear(&cmd);
            if (teardown && reply.ok)
                break;
            continue;
        }
        worker_msg_clear(&cmd);
    }
    /* The manager has gone (or was done): the VM goes too. */
    if (w.mv) {
        inner->stop(w.mv, VM_STOP_HOST, VMM_EXIT_SIGNAL_BASE + 15, "its manager has gone");
        inner->teardown(w.mv);
        free_vm(&w);
    }
    close(fd);
    g_hash_table_destroy(w.pending);
    g_mutex_clear(&w.lock);
    w.m.kvm = NULL;
    manager_clear(&w.m);
    return status;
}
