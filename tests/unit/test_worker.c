/*
 * The worker backend and the worker loop, end to end without KVM: the
 * manager drives each VM through manager_worker_backend, and each worker
 * (a thread of this process with its own channel, or a forked child) runs
 * it through the fake backend (tests/fake_backend.c) with worker_serve().
 * Every command crosses the channel, so does a service guest's host call
 * (worker -> manager -> another worker and back), and a worker that dies
 * or sends garbage costs its own VM only.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/worker.h"
#include "vmm/worker_proto.h"

#include "../fake_backend.h"
#include "unit.h"

static struct manager m;
static char *dir, *config;

/* --- launchers: a worker thread, or a forked worker process ------------------ */

struct test_worker {
    GThread *thread;          /* a thread worker */
    pid_t pid;                /* a process worker */
    int peer;                 /* a dup of the worker's end: to kill it, or to lie as it */
    int status;
};
static struct test_worker *last_worker;

static gpointer worker_thread(gpointer data)
{
    struct test_worker *tw = data;
    int fd = dup(tw->peer);

    tw->status = worker_serve(fd, &fake_backend, NULL, NULL, NULL);
    return NULL;
}

/* A worker that says hello, then dies. */
static gpointer dying_worker(gpointer data)
{
    struct test_worker *tw = data;
    int fd = dup(tw->peer);
    struct worker_msg msg = { .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION };

    worker_msg_send(fd, &msg, NULL);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    return NULL;
}

/* A worker that answers everything but PAUSE, which it ignores. */
static gpointer mute_worker(gpointer data)
{
    struct test_worker *tw = data;
    int fd = dup(tw->peer);
    struct worker_msg msg = { .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION };

    worker_msg_send(fd, &msg, NULL);
    while (worker_msg_recv(fd, WORKER_FROM_MANAGER, G_MAXINT64, &msg, NULL) >= 0) {
        struct worker_msg reply = { .type = WMSG_REPLY, .seq = msg.seq, .ok = true };

        if (msg.type != WMSG_PAUSE)
            worker_msg_send(fd, &reply, NULL);
        worker_msg_clear(&msg);
    }
    close(fd);
    return NULL;
}

/* A worker whose guest keeps both its vCPUs in host calls: each answer is
 * followed at once by the next call, BUSY_CALLS in all. */
#define BUSY_CALLS 400
static int busy_done;

static gpointer busy_worker(gpointer data)
{
    struct test_worker *tw = data;
    int fd = dup(tw->peer), outstanding = 0, sent = 0;
    struct worker_msg msg = { .type = WMSG_HELLO, .version = WORKER_PROTO_VERSION };
    bool calling = false, end = false;

    worker_msg_send(fd, &msg, NULL);
    while (!end && worker_msg_recv(fd, WORKER_FROM_MANAGER, G_MAXINT64, &msg, NULL) >= 0) {
        if (msg.type == WMSG_HOST_CALL_REPLY) {
            outstanding--;
        } else {
            struct worker_msg reply = { .type = WMSG_REPLY, .seq = msg.seq, .ok = true };

            worker_msg_send(fd, &reply, NULL);
            calling = calling || msg.type == WMSG_START;
            end = msg.type == WMSG_TEARDOWN;
        }
        worker_msg_clear(&msg);
        while (calling && outstanding < 2 && sent < BUSY_CALLS) {
            struct worker_msg call = { .type = WMSG_HOST_CALL, .seq = 5000 + sent,
                                       .op = MANAGER_HOST_QUERY, .arg = 77 };

            worker_msg_send(fd, &call, NULL);
            outstanding++;
            sent++;
        }
        if (sent == BUSY_CALLS && !outstanding)
            __atomic_store_n(&busy_done, 1, __ATOMIC_RELEASE);
    }
    close(fd);
    return NULL;
}

static bool spawn(const struct worker_launcher *l, struct mvm *mv, int *fd, void **handle,
                  GError **error)
{
    struct test_worker *tw = g_new0(struct test_worker, 1);
    int sv[2];

    ck_assert(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    tw->peer = sv[1];
    if (l->data == (void *)4) {
        tw->thread = g_thread_new("busy", busy_worker, tw);
    } else if (l->data == (void *)3) {
        tw->thread = g_thread_new("dying", dying_worker, tw);
    } else if (l->data == (void *)2) {
        tw->thread = g_thread_new("mute", mute_worker, tw);
    } else if (l->data) { /* a child process */
        tw->pid = fork();
        ck_assert(tw->pid >= 0);
        if (!tw->pid) {
            close(sv[0]);
            _exit(worker_serve(sv[1], &fake_backend, NULL, NULL, NULL));
        }
        close(sv[1]); /* the child's alone: its death closes the channel */
        tw->peer = -1;
    } else {
        tw->thread = g_thread_new("worker", worker_thread, tw);
    }
    *fd = sv[0];
    *handle = last_worker = tw;
    return true;
}

static char *reap(const struct worker_launcher *l, void *handle, bool kill_it)
{
    struct test_worker *tw = handle;
    char *how = NULL;

    if (tw->pid) {
        int st;

        if (kill_it)
            kill(tw->pid, SIGKILL);
        ck_assert(waitpid(tw->pid, &st, 0) == tw->pid);
        if (WIFSIGNALED(st))
            how = g_strdup_printf("killed by signal %d", WTERMSIG(st));
    } else {
        if (kill_it)
            shutdown(tw->peer, SHUT_RDWR); /* its channel ends: a worker then exits */
        g_thread_join(tw->thread);
        if (tw->status)
            how = g_strdup_printf("status %d", tw->status);
    }
    if (tw->peer >= 0)
        close(tw->peer);
    if (last_worker == tw)
        last_worker = NULL;
    g_free(tw);
    return how;
}

static const struct worker_launcher threads = { spawn, reap, NULL };
static const struct worker_launcher processes = { spawn, reap, (void *)1 };
static const struct worker_launcher mutes = { spawn, reap, (void *)2 };
static const struct worker_launcher dying = { spawn, reap, (void *)3 };
static const struct worker_launcher busy = { spawn, reap, (void *)4 };

/* --- events and waiting ------------------------------------------------------ */

static GString *events;
static uint64_t call_token;   /* the last GUEST_CALL's */

static void on_event(const struct manager_event *ev, void *opaque)
{
    static const char *const kinds[] = { "started", "stop", "resume", "reset", "shutdown",
                                         "destroyed", "crashed", "denied", "call" };

    g_string_append_printf(events, "%s %s", kinds[ev->kind], ev->vm);
    if (ev->kind == MEV_SHUTDOWN)
        g_string_append_printf(events, " %s %d", ev->reason, ev->status);
    if (ev->kind == MEV_GUEST_CRASHED)
        g_string_append_printf(events, " [%s]", ev->message);
    if (ev->kind == MEV_GUEST_CALL) {
        g_string_append_printf(events, " %#x %s %" G_GINT64_MODIFIER "x", ev->call, ev->conduit,
                               ev->args[3]);
        call_token = ev->token;
    }
    if (ev->kind == MEV_HYPERCALL_DENIED)
        g_string_append_printf(events, " %#x %s", ev->call, ev->reason);
    g_string_append(events, "\n");
}

/* Runs the main context until @mv has stopped (at most 5 s). */
static void wait_stopped(struct mvm *mv)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!mv->stopped && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    ck_assert_msg(mv->stopped, "VM '%s' did not stop", mv->name);
}

/* Runs the main context until @text is in the events (at most 5 s). */
static void wait_event(const char *text)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!strstr(events->str, text) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    ck_assert_msg(strstr(events->str, text), "no '%s' in:\n%s", text, events->str);
}

static void drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static void setup_with(const struct worker_launcher *l)
{
    g_autofree char *fw = NULL;
    uint8_t elf[UNIT_ELF_SIZE];
    uint64_t lo, hi;
    size_t n;

    memset(&fake, 0, sizeof(fake));
    manager_init(&m, &manager_worker_backend, NULL);
    m.backend_data = l;
    m.on_event = on_event;
    events = g_string_new("");
    dir = g_dir_make_tmp("vmm-worker-XXXXXX", NULL);
    fw = g_build_filename(dir, "fw.elf", NULL);
    config = g_build_filename(dir, "vm.toml", NULL);
    arch_load_window(16 << 20, 1, &lo, &hi);
    n = unit_make_elf(elf, arch_elf_machine(), lo, 0x1000, lo);
    ck_assert(g_file_set_contents(fw, (char *)elf, n, NULL));
    ck_assert(g_file_set_contents(config, "[vm]\nmemory = 16\nvcpus = 2\n[boot]\n"
                                  "firmware = \"fw.elf\"\n[policy]\nrole = \"service\"\n",
                                  -1, NULL));
}

static void setup(void)
{
    setup_with(&threads);
}

static void setup_processes(void)
{
    setup_with(&processes);
}

static void teardown(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    drain();
    manager_clear(&m);
    g_assert(system(cmd) == 0);
    g_free(dir);
    g_free(config);
    g_string_free(events, TRUE);
}

static struct mvm *create(const char *name)
{
    struct vmm_config cfg;
    GError *err = NULL;
    struct mvm *mv;

    config_init(&cfg);
    ck_assert(config_load(&cfg, config, NULL));
    mv = manager_create(&m, name, &cfg, 0, &err);
    config_clear(&cfg);
    ck_assert_msg(mv, "%s", err ? err->message : "");
    return mv;
}

/* --- the lifecycle ------------------------------------------------------------- */

START_TEST(lifecycle_crosses_the_channel)
{
    struct mvm *mv = create("a");
    struct mvm *inner = fake.last_built;
    unsigned reads;

    /* Built by the worker, from the config the manager checked. */
    ck_assert_uint_eq(fake.builds, 1);
    ck_assert_ptr_ne(inner, mv);
    ck_assert_str_eq(inner->name, "a");
    ck_assert_uint_eq(inner->id, mv->id);
    ck_assert_uint_eq(inner->cfg.vcpus, 2);
    ck_assert_uint_eq(inner->cfg.memory, 16 << 20);

    mv->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    ck_assert(manager_start(&m, "a", NULL));
    ck_assert_uint_eq(fake.starts, 1);
    /* START carried the policy the VM runs with (set-policy may have changed it) */
    ck_assert_uint_eq(inner->policy.flags, GUEST_FLAG(GUEST_FLAG_INFO));
    ck_assert_int_eq(inner->policy.role, VM_ROLE_SERVICE);
    ck_assert(inner->policy.may_call);
    ck_assert(manager_pause(&m, "a", NULL));
    ck_assert_uint_eq(fake.pauses, 1);
    ck_assert(manager_resume(&m, "a", NULL));
    ck_assert_uint_eq(fake.resumes, 1);
    ck_assert_int_eq(mv->state, MVM_RUNNING);
    reads = fake.stats_reads;
    ck_assert_ptr_nonnull(manager_call_stats(mv));
    ck_assert_uint_eq(call_stats_get(manager_call_stats(mv), 0, CALL_ALLOWED), 0);
    ck_assert_uint_eq(fake.stats_reads, reads + 2); /* each fetch one STATS, answered */

    /* Ended by the manager: the stop crosses, and its report comes back. */
    ck_assert(manager_end(&m, mv, VM_STOP_HOST, 143, "bye", NULL));
    wait_stopped(mv);
    ck_assert_uint_eq(fake.stops, 1);
    ck_assert_int_eq(mv->state, MVM_SHUTDOWN);
    ck_assert_str_eq(mv->stop_reason, "host-stop");
    ck_assert_int_eq(mv->exit_status, 143);
    ck_assert_str_eq(mv->stop_message, "bye");

    ck_assert(manager_destroy(&m, "a", NULL));
    ck_assert_uint_eq(fake.teardowns, 1);
    ck_assert_ptr_null(last_worker); /* reaped */
    ck_assert_str_eq(events->str, "started a\nstop a\nresume a\nshutdown a host-stop 143\n"
                                  "destroyed a\n");
}
END_TEST

/* The guest ends itself: the worker reports it unasked. */
START_TEST(guest_stop_reported)
{
    struct mvm *mv = create("a");

    ck_assert(manager_start(&m, "a", NULL));
    fake_vm_stop(fake.last_built, VM_STOP_GUEST_EXIT, 7, "done", true);
    wait_stopped(mv);
    ck_assert_str_eq(mv->stop_reason, "guest-exit");
    ck_assert_int_eq(mv->exit_status, 7);
    ck_assert_str_eq(mv->stop_message, "done");
    ck_assert_str_eq(events->str, "started a\nshutdown a guest-exit 7\n");
    /* a reset builds it again, in a new worker */
    ck_assert(manager_reset(&m, "a", NULL));
    ck_assert_uint_eq(fake.builds, 2);
    ck_assert_int_eq(mv->state, MVM_RUNNING);
}
END_TEST

START_TEST(build_failure_crosses)
{
    GError *err = NULL;
    struct vmm_config cfg;

    fake.fail_build = true;
    config_init(&cfg);
    ck_assert(config_load(&cfg, config, NULL));
    ck_assert_ptr_null(manager_create(&m, "a", &cfg, 0, &err));
    config_clear(&cfg);
    ck_assert_str_eq(err->message, "fake build failure");
    ck_assert(g_error_matches(err, MANAGER_ERROR, MANAGER_ERROR_FAILED));
    g_error_free(err);
    ck_assert_ptr_null(last_worker);
    ck_assert_uint_eq(m.vms->len, 0);
}
END_TEST

/* A worker that dies during the build costs that build only: the next VM,
 * which gets the same number, is not taken for it. */
START_TEST(worker_dying_in_build)
{
    struct vmm_config cfg;
    GError *err = NULL;
    struct mvm *b;

    m.backend_data = &dying;
    config_init(&cfg);
    ck_assert(config_load(&cfg, config, NULL));
    ck_assert_ptr_null(manager_create(&m, "a", &cfg, 0, &err));
    config_clear(&cfg);
    ck_assert_msg(strstr(err->message, "its worker has died"), "%s", err->message);
    g_error_free(err);
    m.backend_data = &threads;
    b = create("b");
    ck_assert_uint_eq(b->id, 1);
    drain();
    ck_assert(!b->stopped);
    ck_assert_int_eq(b->state, MVM_PRELAUNCH);
    ck_assert_str_eq(events->str, "");
}
END_TEST

/* --- a service guest's calls cross both processes ---------------------------- */

struct guest_op {
    struct mvm_ref *caller;
    manager_host_op op;
    uint64_t arg, out[2];
    int r;
    int done;
};

static gpointer guest_thread(gpointer data)
{
    struct guest_op *g = data;

    g->r = manager_host_call(g->caller, g->op, g->arg, g->out);
    __atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The worker's guest makes a call (on a "vCPU" thread of the worker's
 * process) while the manager's main context is served. */
static int guest_call(struct mvm *inner, manager_host_op op, uint64_t arg, uint64_t out[2])
{
    struct guest_op g = { .caller = inner->build_ref, .op = op, .arg = arg };
    GThread *t = g_thread_new("guest", guest_thread, &g);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!__atomic_load_n(&g.done, __ATOMIC_ACQUIRE) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(500);
    g_thread_join(t);
    if (out)
        memcpy(out, g.out, sizeof(g.out));
    return g.r;
}

START_TEST(host_call_crosses_both)
{
    struct mvm *svc, *child, *inner;
    uint64_t out[2], id;
    GError *err = NULL;

    ck_assert_msg(manager_add_image(&m, "small", config, &err), "%s", err ? err->message : "");
    svc = create("svc");
    inner = fake.last_built;
    ck_assert(manager_start(&m, "svc", NULL));

    /* VM_CREATE: a second worker, built on the manager's main context. */
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_CREATE, 0, out), 0);
    id = out[0];
    child = manager_find_id(&m, id);
    ck_assert_ptr_nonnull(child);
    ck_assert_uint_eq(child->owner, svc->id);
    ck_assert_uint_eq(fake.builds, 2);
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_QUERY, id, out), 0);
    ck_assert_uint_eq(out[0], GUEST_VM_PRELAUNCH);
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_START, id, NULL), 0);
    ck_assert_int_eq(child->state, MVM_RUNNING);
    ck_assert_uint_eq(fake.starts, 2);
    /* the manager's refusals cross as they are */
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_START, id, NULL), -EBUSY);
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_QUERY, svc->id, NULL), -EPERM);
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_CREATE, 9, NULL), -ENOENT);
    ck_assert_int_eq(guest_call(inner, MANAGER_HOST_DESTROY, id, NULL), 0);
    ck_assert_ptr_null(manager_find_id(&m, id));
    ck_assert_uint_eq(fake.teardowns, 1);

    /* A refused call's event crosses too. */
    manager_call_refused(inner->build_ref, 1, 0xc6001020U, call_verdict_names[CALL_REFUSED_ROLE]);
    wait_event("denied svc 0xc6001020 service-only\n");
}
END_TEST

/* --- a call for an external monitor crosses both ------------------------------- */

struct fwd_op {
    struct mvm_ref *caller;
    struct guest_call call;
    call_status status;
    bool claimed;
    int done;
};

static gpointer fwd_thread(gpointer data)
{
    struct fwd_op *f = data;

    f->claimed = manager_forward_call(f->caller, 1, &f->call, &f->status);
    __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(monitor_call_crosses_both)
{
    static const int monitor = 1; /* its identity */
    struct fwd_op f = { .call = { .id = 0xc6000105, .conduit = CONDUIT_HVC,
                                  .args = { 1, 2, 3, 0x44 } } };
    const uint64_t results[2] = { 0xaa, 0xbb };
    struct mvm *inner;
    GThread *t;

    create("a");
    inner = fake.last_built;
    ck_assert(manager_monitor_calls(&m, "a", &monitor, 0xc6000100, 0xc60001ff, 5000, NULL));
    ck_assert(manager_start(&m, "a", NULL));
    f.caller = inner->build_ref;
    t = g_thread_new("vcpu", fwd_thread, &f);
    wait_event("call a 0xc6000105 hvc 44\n");
    ck_assert(manager_call_return(&m, &monitor, call_token, results, 2, NULL));
    g_thread_join(t);
    ck_assert(f.claimed);
    ck_assert_int_eq(f.status, CALL_OK);
    ck_assert_uint_eq(f.call.ret[0], 0xaa);
    ck_assert_uint_eq(f.call.ret[1], 0xbb);
    ck_assert_uint_eq(f.call.ret[2], 0);
    /* A call nobody claimed never leaves the worker. */
    f.call.id = 0xc6000200;
    ck_assert(!manager_forward_call(inner->build_ref, 0, &f.call, &f.status));
}
END_TEST

/* --- failure isolation ---------------------------------------------------------- */

/* A dead worker: its VM crashes with the reason, the other runs on. */
static void dead_worker_costs_its_vm_only(const char *how)
{
    struct mvm *a = create("a");
    struct test_worker *wa = last_worker;
    struct mvm *b = create("b");

    ck_assert(manager_start(&m, "a", NULL));
    ck_assert(manager_start(&m, "b", NULL));
    if (wa->pid)
        kill(wa->pid, SIGKILL);
    else
        shutdown(wa->peer, SHUT_RDWR);
    wait_stopped(a);
    ck_assert_int_eq(a->state, MVM_SHUTDOWN);
    ck_assert_str_eq(a->stop_reason, "guest-crash");
    ck_assert_int_eq(a->exit_status, VMM_EXIT_CRASHED);
    ck_assert_msg(strstr(a->stop_message, how), "'%s' does not say '%s'", a->stop_message, how);
    ck_assert_ptr_nonnull(strstr(events->str, "crashed a [its worker "));
    ck_assert_ptr_nonnull(strstr(events->str, "shutdown a guest-crash 120\n"));
    /* b is untouched and still answers */
    ck_assert(!b->stopped);
    ck_assert(manager_pause(&m, "b", NULL));
    ck_assert(manager_resume(&m, "b", NULL));
    ck_assert_int_eq(b->state, MVM_RUNNING);
    /* a's commands fail at once, and it can be destroyed */
    ck_assert(!manager_start(&m, "a", NULL));
    ck_assert(manager_destroy(&m, "a", NULL));
    ck_assert(manager_destroy(&m, "b", NULL));
}

START_TEST(closed_worker_crashes_its_vm_only)
{
    dead_worker_costs_its_vm_only("has died: its channel closed");
}
END_TEST

START_TEST(killed_worker_crashes_its_vm_only)
{
    dead_worker_costs_its_vm_only("has died: its channel closed (killed by signal 9)");
}
END_TEST

/* Garbage on the channel: that worker is ended, the manager lives on. */
START_TEST(garbage_ends_the_worker)
{
    struct mvm *a = create("a");
    struct test_worker *wa = last_worker;
    struct mvm *b = create("b");
    struct test_worker *wb = last_worker;
    struct worker_msg reply = { .type = WMSG_REPLY, .seq = 99, .ok = true };
    static const char junk[] = "\x10\x00\x00\x00\x63\x00\x00\x00garbage!";

    ck_assert(manager_start(&m, "a", NULL));
    ck_assert(manager_start(&m, "b", NULL));
    ck_assert(send(wa->peer, junk, 16, 0) == 16);
    wait_stopped(a);
    ck_assert_msg(strstr(a->stop_message, "was ended: malformed worker message: unknown "
                         "message type 99"), "%s", a->stop_message);
    ck_assert_ptr_nonnull(strstr(events->str, "crashed a [its worker was ended"));
    /* A well-formed message out of turn is as bad. */
    ck_assert(worker_msg_send(wb->peer, &reply, NULL));
    wait_stopped(b);
    ck_assert_msg(strstr(b->stop_message, "sent a reply message out of turn"), "%s",
                  b->stop_message);
    /* The manager still makes and runs VMs. */
    create("c");
    ck_assert(manager_start(&m, "c", NULL));
    ck_assert(manager_destroy(&m, "a", NULL));
    ck_assert(manager_destroy(&m, "b", NULL));
}
END_TEST

/* A worker that does not answer in time is ended; the command fails. */
START_TEST(silent_worker_ends)
{
    struct mvm *a;
    GError *err = NULL;
    gint64 t0;

    m.backend_data = &mutes;
    m.pause_timeout_ms = 100;
    a = create("a");
    ck_assert(manager_start(&m, "a", NULL));
    t0 = g_get_monotonic_time();
    ck_assert(!manager_pause(&m, "a", &err));
    ck_assert_int_ge(g_get_monotonic_time() - t0, 5100 * 1000);
    ck_assert_msg(strstr(err->message, "its worker did not answer pause in 5100 ms"), "%s",
                  err->message);
    g_error_free(err);
    wait_stopped(a);
    ck_assert_str_eq(a->stop_reason, "guest-crash");
    ck_assert(manager_destroy(&m, "a", NULL));
}
END_TEST

/* A guest whose vCPUs make their next call as soon as the last one is
 * answered is no flood: the answer frees its call's place before the
 * worker can see it (it used to free it after, and a fast worker's next
 * call then counted as one too many: its VM crashed). */
START_TEST(back_to_back_calls_are_no_flood)
{
    struct mvm *a;
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

    teardown();
    setup_with(&busy);
    a = create("a");
    busy_done = 0;
    ck_assert(manager_start(&m, "a", NULL));
    while (!__atomic_load_n(&busy_done, __ATOMIC_ACQUIRE) && a->state == MVM_RUNNING &&
           g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(200);
    ck_assert_msg(a->state == MVM_RUNNING, "%s", a->stop_message ? a->stop_message : "stopped");
    ck_assert(__atomic_load_n(&busy_done, __ATOMIC_ACQUIRE));
    ck_assert(manager_destroy(&m, "a", NULL));
}
END_TEST

/* More calls at once than the VM has vCPUs: the worker is lying. */
START_TEST(call_flood_ends_the_worker)
{
    struct mvm *a = create("a");
    struct test_worker *wa = last_worker;
    struct worker_msg call = { .type = WMSG_HOST_CALL, .op = MANAGER_HOST_QUERY, .arg = 77 };

    ck_assert(manager_start(&m, "a", NULL));
    /* Nobody iterates the main context: the first two wait there. */
    for (int i = 0; i < 3; i++) {
        call.seq = 1000 + i;
        ck_assert(worker_msg_send(wa->peer, &call, NULL));
    }
    wait_stopped(a);
    ck_assert_msg(strstr(a->stop_message, "more calls at once than its VM has vCPUs (2)"),
                  "%s", a->stop_message);
    ck_assert(manager_destroy(&m, "a", NULL));
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as vmm: a closed channel is an error, not a death */
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("threads"), *tp = tcase_create("processes");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lifecycle_crosses_the_channel);
    tcase_add_test(tc, guest_stop_reported);
    tcase_add_test(tc, build_failure_crosses);
    tcase_add_test(tc, worker_dying_in_build);
    tcase_add_test(tc, host_call_crosses_both);
    tcase_add_test(tc, monitor_call_crosses_both);
    tcase_add_test(tc, closed_worker_crashes_its_vm_only);
    tcase_add_test(tc, garbage_ends_the_worker);
    tcase_add_test(tc, call_flood_ends_the_worker);
    tcase_add_test(tc, back_to_back_calls_are_no_flood);
    tcase_add_test(tc, silent_worker_ends);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tp, setup_processes, teardown);
    tcase_set_timeout(tp, 60);
    tcase_add_test(tp, killed_worker_crashes_its_vm_only);
    suite_add_tcase(s, tp);
    return unit_run(s);
}
