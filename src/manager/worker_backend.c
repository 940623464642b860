/*
 * The worker backend (vmm/worker.h): each VM runs in its own worker,
 * driven over a socketpair. The manager's side runs on its main context:
 * a command waits, bounded, for its reply, handling whatever else the
 * worker sends meanwhile; between commands a watch on the channel takes
 * the worker's own messages. A service guest's host call and a call for a
 * monitor each get a thread here that makes the call as a vCPU thread
 * would (manager_host_call(), manager_forward_call(): the same bounded
 * waits) and sends the answer back.
 *
 * The worker is hostile: a message that does not decode or does not fit
 * the conversation, a closed channel, or a command not answered in time
 * ends it, and its VM stops as crashed with the reason. Nothing it sends
 * can make the manager wait without bound, allocate beyond a message's
 * bound, or run more call threads than the VM has vCPUs.
 */
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/worker.h"
#include "vmm/worker_proto.h"

struct worker_vm {
    struct manager *m;
    struct mvm *mv;
    struct mvm_ref ref;       /* the build's: for its stop report and calls */
    const struct worker_launcher *launcher;
    void *handle;
    int fd;
    GSource *watch;
    uint64_t next_seq;
    bool dead;                /* main context only */
    bool reported;            /* its stop went to the manager */
    char *reaped;             /* how the worker ended */
    int stopping;             /* atomic */
    GMutex lock;              /* stop, waits, calls */
    GCond calls_done;
    unsigned calls;           /* call threads running */
    GSList *waits;
    struct vm_stop stop;
    struct call_stats stats;
};

static struct worker_vm *wvm(struct mvm *mv)
{
    return mv->vm;
}

static void wake_waits(struct worker_vm *w)
{
    g_mutex_lock(&w->lock);
    __atomic_store_n(&w->stopping, 1, __ATOMIC_RELEASE);
    for (GSList *l = w->waits; l; l = l->next)
        vmm_wait_wake(l->data);
    g_mutex_unlock(&w->lock);
}

/* The stop the manager will read: the first one wins. */
static void set_stop(struct worker_vm *w, vm_stop_reason reason, int status,
                     const char *message)
{
    g_mutex_lock(&w->lock);
    if (w->stop.reason == VM_STOP_NONE) {
        w->stop.reason = reason;
        w->stop.status = status;
        w->stop.message = g_strdup(message);
    }
    g_mutex_unlock(&w->lock);
    wake_waits(w);
}

static void report_stop(struct worker_vm *w)
{
    if (w->reported)
        return;
    w->reported = true;
    manager_vm_stopped(&w->ref);
}

/* The worker is gone or has misbehaved: end it; its VM has crashed. */
static void worker_lost(struct worker_vm *w, const char *why)
{
    g_autofree char *message = NULL;

    if (w->dead)
        return;
    w->dead = true;
    if (w->watch) {
        g_source_destroy(w->watch);
        g_clear_pointer(&w->watch, g_source_unref);
    }
    /* The call threads' answers now go nowhere: wake them first. */
    wake_waits(w);
    w->reaped = w->launcher->reap(w->launcher, w->handle, true);
    w->handle = NULL;
    message = g_strdup_printf("its worker %s%s%s%s", why, w->reaped ? " (" : "",
                              w->reaped ? w->reaped : "", w->reaped ? ")" : "");
    vmm_log("VM '%s': %s", w->mv->name, message);
    set_stop(w, VM_STOP_CRASH, VMM_EXIT_CRASHED, message);
    report_stop(w);
}

/* --- the worker's own messages ------------------------------------------------ */

struct call_job {
    struct worker_vm *w;
    struct worker_msg msg;
};

static void send_answer(struct worker_vm *w, struct worker_msg *msg)
{
    g_autoptr(GError) err = NULL;

    /* A lost worker's answers go nowhere (its channel is shut): fine. */
    if (!worker_msg_send(w->fd, msg, &err))
        g_debug("VM '%s': %s", w->mv->name, err->message);
}

static gpointer call_thread(gpointer data)
{
    struct call_job *job = data;
    struct worker_vm *w = job->w;
    struct worker_msg reply = { .seq = job->msg.seq };

    if (job->msg.type == WMSG_HOST_CALL) {
        reply.type = WMSG_HOST_CALL_REPLY;
        reply.result = manager_host_call(&w->ref, job->msg.op, job->msg.arg, reply.out);
    } else {
        struct guest_call call = { .id = job->msg.call, .conduit = job->msg.conduit,
                                   .nr_args_read = 4 };
        call_status status = CALL_NOT_SUPPORTED;

        memcpy(call.args, job->msg.args, sizeof(call.args));
        reply.type = WMSG_FORWARD_REPLY;
        reply.handled = manager_forward_call(&w->ref, job->msg.vcpu, &call, &status);
        reply.call_status = status;
        memcpy(reply.ret, call.ret, sizeof(reply.ret));
    }
    g_free(job);
    /* The answer and the freeing of its call's place are one step for
     * start_call(), which takes the same lock: the worker's next call,
     * which this answer lets its vCPU make, can reach the manager the
     * instant the answer is sent, and must find the place free. The send
     * does not block (the manager's end is non-blocking). */
    g_mutex_lock(&w->lock);
    send_answer(w, &reply);
    if (!--w->calls)
        g_cond_broadcast(&w->calls_done);
    g_mutex_unlock(&w->lock);
    return NULL;
}

/* One thread per waiting call, at most one per vCPU (as in one process). */
static bool start_call(struct worker_vm *w, const struct worker_msg *msg)
{
    struct call_job *job;
    bool ok;

    g_mutex_lock(&w->lock);
    ok = w->calls < w->mv->cfg.vcpus;
    if (ok)
        w->calls++;
    g_mutex_unlock(&w->lock);
    if (!ok)
        return false;
    job = g_new(struct call_job, 1);
    job->w = w;
    job->msg = *msg; /* no strings in these two */
    g_thread_unref(g_thread_new("worker-call", call_thread, job));
    return true;
}

static void take_stats(struct worker_vm *w, const struct worker_msg *msg)
{
    for (size_t e = 0; e <= call_table_len; e++)
        for (size_t v = 0; v < CALL_VERDICT_COUNT; v++)
            __atomic_store_n(&w->stats.count[e][v], msg->counts[e * CALL_VERDICT_COUNT + v],
                             __ATOMIC_RELAXED);
    __atomic_store_n(&w->stats.ucall_rejected, msg->ucall_rejected, __ATOMIC_RELAXED);
}

/* A message the worker sent unasked: false when it has no place in the
 * conversation (the worker is then ended). */
static bool take_message(struct worker_vm *w, const struct worker_msg *msg, char **why)
{
    switch (msg->type) {
    case WMSG_STOPPED:
        set_stop(w, msg->reason, msg->status, msg->message);
        report_stop(w);
        return true;
    case WMSG_CALL_STATS:
        if (msg->seq)
            break;
        take_stats(w, msg);
        return true;
    case WMSG_HOST_CALL:
    case WMSG_FORWARD:
        if (msg->type == WMSG_FORWARD && msg->vcpu >= w->mv->cfg.vcpus)
            break;
        if (start_call(w, msg))
            return true;
        *why = g_strdup_printf("made more calls at once than its VM has vCPUs (%u)",
                               w->mv->cfg.vcpus);
        return false;
    case WMSG_CALL_REFUSED:
        if (msg->vcpu >= w->mv->cfg.vcpus)
            break;
        manager_call_refused(&w->ref, msg->vcpu, msg->call, call_verdict_names[msg->verdict]);
        return true;
    default:
        break;
    }
    *why = g_strdup_printf("sent a %s message out of turn (seq %" G_GUINT64_FORMAT ")",
                           worker_msg_type_name(msg->type), msg->seq);
    return false;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct worker_vm *w = data;
    g_autoptr(GError) err = NULL;
    g_autofree char *why = NULL;
    struct worker_msg msg;
    int r = worker_msg_recv(fd, WORKER_FROM_WORKER, 0, &msg, &err);

    if (r == 0)
        return G_SOURCE_CONTINUE;
    if (r < 0) {
        g_autofree char *what = g_strdup_printf("was ended: %s", err->message);

        worker_lost(w, g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_IO)
                           ? "has died: its channel closed" : what);
        return G_SOURCE_REMOVE; /* worker_lost destroyed it */
    }
    if (!take_message(w, &msg, &why)) {
        g_autofree char *what = g_strdup_printf("was ended: it %s", why);

        worker_lost(w, what);
    }
    worker_msg_clear(&msg);
    return w->dead ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* --- commands ---------------------------------------------------------------- */

/* Sends @cmd and waits at most @timeout_ms for its answer (@reply: REPLY,
 * or CALL_STATS for STATS), taking the worker's other messages meanwhile. */
static bool command(struct worker_vm *w, struct worker_msg *cmd, unsigned timeout_ms,
                    struct worker_msg *reply, GError **error)
{
    gint64 deadline = vmm_deadline_ms(timeout_ms);
    const char *what = worker_msg_type_name(cmd->type);
    g_autoptr(GError) err = NULL;

    if (w->dead) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "VM '%s' has no worker: %s",
                    w->mv->name, w->stop.message ? w->stop.message : "it has gone");
        return false;
    }
    cmd->seq = ++w->next_seq;
    if (!worker_msg_send(w->fd, cmd, &err)) {
        g_autofree char *why = g_strdup_printf("has died: %s", err->message);

        worker_lost(w, why);
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "VM '%s': %s", w->mv->name,
                    w->stop.message);
        return false;
    }
    for (;;) {
        g_autofree char *why = NULL;
        int r = worker_msg_recv(w->fd, WORKER_FROM_WORKER, deadline, reply, &err);

        if (r == 0) {
            why = g_strdup_printf("did not answer %s in %u ms", what, timeout_ms);
        } else if (r < 0) {
            why = g_error_matches(err, WORKER_PROTO_ERROR, WORKER_PROTO_IO)
                      ? g_strdup_printf("has died: %s", err->message)
                      : g_strdup_printf("was ended: %s", err->message);
        } else if (reply->seq == cmd->seq &&
                   (reply->type == WMSG_REPLY ||
                    (cmd->type == WMSG_STATS && reply->type == WMSG_CALL_STATS))) {
            if (reply->type == WMSG_CALL_STATS || reply->ok)
                return true;
            g_set_error(error, MANAGER_ERROR, reply->code, "%s", reply->message);
            worker_msg_clear(reply);
            return false;
        } else {
            bool ok = take_message(w, reply, &why);

            worker_msg_clear(reply);
            if (ok)
                continue;
            why = (g_free(why), g_strdup_printf("was ended: it %s", why));
        }
        worker_lost(w, why);
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "VM '%s': %s",
                    w->mv->name, w->stop.message);
        return false;
    }
}

/* A command with a plain reply. */
static bool order(struct worker_vm *w, struct worker_msg *cmd, unsigned timeout_ms,
                  GError **error)
{
    struct worker_msg reply;

    if (!command(w, cmd, timeout_ms, &reply, error))
        return false;
    worker_msg_clear(&reply);
    return true;
}

static void free_worker_vm(struct worker_vm *w)
{
    if (w->fd >= 0)
        close(w->fd);
    call_stats_clear(&w->stats);
    g_free(w->stop.message);
    g_free(w->reaped);
    g_cond_clear(&w->calls_done);
    g_mutex_clear(&w->lock);
    g_free(w);
}

static bool worker_build(struct manager *m, struct mvm *mv, GError **error)
{
    const struct worker_launcher *l = m->backend_data;
    struct worker_vm *w = g_new0(struct worker_vm, 1);
    g_autofree char *config = worker_config_json(&mv->cfg);
    struct worker_msg hello, build = {
        .type = WMSG_BUILD, .vm_id = m->guest_id_zero ? 0 : mv->id,
        .pause_timeout_ms = m->pause_timeout_ms,
        .host_call_timeout_ms = m->host_call_timeout_ms,
        .guest_id_zero = m->guest_id_zero, .name = mv->name, .config = config,
        .console_continues = mv->generation > 0, /* torn down before: a rebuild */
    };
    g_autoptr(GError) err = NULL;
    int r;

    w->m = m;
    w->mv = mv;
    w->ref = *mv->build_ref;
    w->launcher = l;
    w->fd = -1;
    g_mutex_init(&w->lock);
    g_cond_init(&w->calls_done);
    call_stats_init(&w->stats);
    if (!l->spawn(l, mv, &w->fd, &w->handle, error))
        goto fail;
    /* Never wait for a worker that does not read: a send that would block
     * fails, and so ends it (every wait for its messages is bounded apart). */
    fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
    mv->vm = w;
    r = worker_msg_recv(w->fd, WORKER_FROM_WORKER, vmm_deadline_ms(WORKER_HELLO_TIMEOUT_MS),
                        &hello, &err);
    if (r <= 0 || hello.type != WMSG_HELLO) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "cannot create VM '%s': its worker did not start: %s", mv->name,
                    r < 0 ? err->message : r ? "it did not say hello first" : "no hello in time");
        if (r > 0)
            worker_msg_clear(&hello);
        goto fail;
    }
    /* A worker lost now costs the build, not a stop report: the VM is
     * never listed, and its number goes to the next one. */
    w->reported = true;
    if (!order(w, &build, WORKER_BUILD_TIMEOUT_MS, error))
        goto fail;
    w->reported = false;
    w->watch = g_unix_fd_source_new(w->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(w->watch, G_SOURCE_FUNC(on_readable), w, NULL);
    g_source_attach(w->watch, m->ctx);
    return true;

fail:
    mv->vm = NULL;
    if (w->handle)
        g_free(l->reap(l, w->handle, true));
    free_worker_vm(w);
    return false;
}

static bool worker_start(struct mvm *mv, GError **error)
{
    struct worker_msg cmd = { .type = WMSG_START, .policy = mv->policy };

    for (guint i = 0; mv->claims && i < mv->claims->len; i++) {
        const struct manager_claim *c = &g_array_index(mv->claims, struct manager_claim, i);

        if (cmd.n_claims == WORKER_CLAIMS_MAX) {
            g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                        "VM '%s' has more than %u monitor claims", mv->name, WORKER_CLAIMS_MAX);
            return false;
        }
        cmd.claims[cmd.n_claims++] = (struct worker_claim){ c->first, c->last, c->timeout_ms };
    }
    return order(wvm(mv), &cmd, WORKER_COMMAND_TIMEOUT_MS, error);
}

static bool worker_pause(struct mvm *mv, GError **error)
{
    struct worker_msg cmd = { .type = WMSG_PAUSE };

    return order(wvm(mv), &cmd, mv->manager->pause_timeout_ms + WORKER_COMMAND_TIMEOUT_MS,
                 error);
}

static void worker_resume(struct mvm *mv)
{
    struct worker_msg cmd = { .type = WMSG_RESUME };

    order(wvm(mv), &cmd, WORKER_COMMAND_TIMEOUT_MS, NULL); /* a failure ends the worker */
}

static void worker_stop(struct mvm *mv, vm_stop_reason reason, int status, const char *message)
{
    struct worker_vm *w = wvm(mv);
    g_autofree char *text = message ? g_strndup(message, WORKER_TEXT_MAX) : NULL;
    struct worker_msg cmd = { .type = WMSG_STOP, .reason = reason, .status = status & 0xff,
                              .message = text };

    wake_waits(w); /* asked to stop: waits on the manager end now */
    if (!w->dead)
        order(w, &cmd, WORKER_COMMAND_TIMEOUT_MS, NULL);
}

static void worker_teardown(struct mvm *mv)
{
    struct worker_vm *w = wvm(mv);
    struct worker_msg cmd = { .type = WMSG_TEARDOWN };

    if (!w->dead)
        order(w, &cmd, WORKER_COMMAND_TIMEOUT_MS, NULL);
    if (w->watch) {
        g_source_destroy(w->watch);
        g_clear_pointer(&w->watch, g_source_unref);
    }
    /* Its call threads answer through the channel: they end first. */
    wake_waits(w);
    g_mutex_lock(&w->lock);
    while (w->calls)
        g_cond_wait(&w->calls_done, &w->lock);
    g_mutex_unlock(&w->lock);
    if (w->handle) {
        shutdown(w->fd, SHUT_RDWR);
        g_free(w->launcher->reap(w->launcher, w->handle, false));
    }
    free_worker_vm(w);
}

static const struct vm_stop *worker_stop_report(struct mvm *mv)
{
    return &wvm(mv)->stop;
}

/* The worker's counters, fresh when it answers (the last it sent when not). */
static const struct call_stats *worker_call_stats(struct mvm *mv)
{
    struct worker_vm *w = wvm(mv);
    struct worker_msg cmd = { .type = WMSG_STATS }, reply;

    if (!w->dead && command(w, &cmd, WORKER_COMMAND_TIMEOUT_MS, &reply, NULL)) {
        take_stats(w, &reply);
        worker_msg_clear(&reply);
    }
    return &w->stats;
}

static void worker_block(struct mvm *mv, struct vmm_wait *wake)
{
    struct worker_vm *w = wvm(mv);

    g_mutex_lock(&w->lock);
    w->waits = g_slist_prepend(w->waits, wake);
    g_mutex_unlock(&w->lock);
}

static void worker_unblock(struct mvm *mv, struct vmm_wait *wake)
{
    struct worker_vm *w = wvm(mv);

    g_mutex_lock(&w->lock);
    w->waits = g_slist_remove(w->waits, wake);
    g_mutex_unlock(&w->lock);
}

static bool worker_stopping(struct mvm *mv)
{
    return __atomic_load_n(&wvm(mv)->stopping, __ATOMIC_ACQUIRE);
}

const struct manager_backend manager_worker_backend = {
    .build = worker_build,
    .start = worker_start,
    .pause = worker_pause,
    .resume = worker_resume,
    .stop = worker_stop,
    .teardown = worker_teardown,
    .stop_report = worker_stop_report,
    .call_stats = worker_call_stats,
    .block = worker_block,
    .unblock = worker_unblock,
    .stopping = worker_stopping,
};
