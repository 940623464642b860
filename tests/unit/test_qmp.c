/*
 * The control socket without KVM: the stream splitter, the session (request
 * checks, negotiation, error classes, argument schema), the manager's state
 * machine and its guest-facing hooks on fake VMs, and the server over a
 * socketpair (framing, events after negotiation only, oversize, vanishing
 * clients).
 */
#include <check.h>
#include <glib-unix.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"
#include "vmm/vm.h"

#include "unit.h"

/* --- splitter ------------------------------------------------------------ */

static GPtrArray *texts;

static void collect(const char *text, size_t len, void *opaque)
{
    g_ptr_array_add(texts, g_strndup(text, len));
}

static void split_all(const char *input, size_t chunk)
{
    struct qmp_splitter s;
    size_t len = strlen(input);

    if (texts)
        g_ptr_array_unref(texts);
    texts = g_ptr_array_new_with_free_func(g_free);
    qmp_splitter_init(&s);
    for (size_t off = 0; off < len; off += chunk)
        ck_assert(qmp_splitter_feed(&s, input + off, MIN(chunk, len - off), collect, NULL));
    qmp_splitter_clear(&s);
}

START_TEST(split_coalesced_and_split)
{
    const char *in = "{\"execute\":\"a\"}{\"execute\":\"b\",\"arguments\":{\"x\":[1,{}]}}"
                     "  \r\n{\"s\":\"} { \\\" \\\\\"}";

    /* Every chunk size gives the same texts: one byte at a time, and all at once. */
    for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
        split_all(in, chunk);
        ck_assert_uint_eq(texts->len, 3);
        ck_assert_str_eq(texts->pdata[0], "{\"execute\":\"a\"}");
        ck_assert_str_eq(texts->pdata[1], "{\"execute\":\"b\",\"arguments\":{\"x\":[1,{}]}}");
        ck_assert_str_eq(texts->pdata[2], "{\"s\":\"} { \\\" \\\\\"}");
    }
}
END_TEST

START_TEST(split_scalars_and_strays)
{
    split_all("42 \"str\" } true{\"a\":1}", 3);
    ck_assert_uint_eq(texts->len, 5);
    ck_assert_str_eq(texts->pdata[0], "42");
    ck_assert_str_eq(texts->pdata[1], "\"str\"");
    ck_assert_str_eq(texts->pdata[2], "}");
    ck_assert_str_eq(texts->pdata[3], "true");
    ck_assert_str_eq(texts->pdata[4], "{\"a\":1}");
}
END_TEST

START_TEST(split_limits)
{
    struct qmp_splitter s;
    GString *big = g_string_new("{\"a\":\"");
    GString *deep = g_string_new(NULL);

    texts = g_ptr_array_new_with_free_func(g_free);
    while (big->len <= QMP_MAX_MESSAGE)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    qmp_splitter_init(&s);
    ck_assert(!qmp_splitter_feed(&s, big->str, big->len, collect, NULL));
    qmp_splitter_clear(&s);

    for (unsigned i = 0; i <= QMP_MAX_DEPTH; i++)
        g_string_append_c(deep, '[');
    qmp_splitter_init(&s);
    ck_assert(!qmp_splitter_feed(&s, deep->str, deep->len, collect, NULL));
    qmp_splitter_clear(&s);

    /* Just under the limit is fine. */
    g_string_truncate(big, QMP_MAX_MESSAGE - 2);
    g_string_append(big, "\"}");
    qmp_splitter_init(&s);
    ck_assert(qmp_splitter_feed(&s, big->str, big->len, collect, NULL));
    ck_assert_uint_eq(texts->len, 1);
    qmp_splitter_clear(&s);
    g_string_free(big, TRUE);
    g_string_free(deep, TRUE);
}
END_TEST

/* --- fake VMs -------------------------------------------------------------- */

static struct {
    unsigned builds, starts, pauses, resumes, stops, teardowns;
    bool fail_build;
} fake;

static bool fake_build(struct manager *m, struct mvm *mv, GError **error)
{
    struct vm *vm;

    if (fake.fail_build) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED, "fake build failure");
        return false;
    }
    vm = g_new0(struct vm, 1);
    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    call_stats_init(&vm->call_stats);
    vm->name = g_strdup(mv->name);
    vm->id = mv->id;
    vm->host = &manager_host_ops;
    vm->host_data = mv->build_ref;
    vm->on_stopped = manager_vm_stopped_cb;
    vm->on_stopped_data = mv->build_ref;
    mv->vm = vm;
    fake.builds++;
    return true;
}

static bool fake_start(struct mvm *mv, GError **error)
{
    mv->vm->policy = mv->policy;
    mv->vm->policy.frozen = true;
    fake.starts++;
    return true;
}

static bool fake_pause(struct mvm *mv, GError **error)
{
    fake.pauses++;
    return true;
}

static void fake_resume(struct mvm *mv)
{
    fake.resumes++;
}

/* As a real VM's last vCPU thread would: record the stop, report it. */
static void fake_stop(struct mvm *mv)
{
    vm_stop(mv->vm, VM_STOP_HOST, 143, "stopped by the manager");
    manager_vm_stopped_cb(mv->vm, mv->vm->on_stopped_data);
    fake.stops++;
}

static void fake_teardown(struct mvm *mv)
{
    struct vm *vm = mv->vm;

    call_stats_clear(&vm->call_stats);
    g_mutex_clear(&vm->lock);
    g_cond_clear(&vm->cond);
    g_free(vm->stop.message);
    g_free(vm->name);
    g_free(vm);
    fake.teardowns++;
}

static const struct manager_backend fake_backend = {
    fake_build, fake_start, fake_pause, fake_resume, fake_stop, fake_teardown,
};

static GPtrArray *events;

static void record_event(const struct manager_event *ev, void *opaque)
{
    g_ptr_array_add(events, qmp_event_from_manager(ev));
}

static void drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static bool saw_event(const char *needle)
{
    for (guint i = 0; i < events->len; i++)
        if (strstr(events->pdata[i], needle))
            return true;
    return false;
}

static struct manager m;

static void fake_setup(void)
{
    memset(&fake, 0, sizeof(fake));
    manager_init(&m, &fake_backend, NULL);
    events = g_ptr_array_new_with_free_func(g_free);
    m.on_event = record_event;
}

static void fake_teardown_all(void)
{
    drain();
    manager_clear(&m);
    g_ptr_array_unref(events);
}

static struct mvm *create(const char *name, const char *fw)
{
    struct vmm_config cfg;
    GError *err = NULL;
    struct mvm *mv;
    g_autofree char *text = g_strdup_printf("[vm]\nmemory = 16\nvcpus = 2\n[boot]\nfirmware = \"%s\"\n", fw);

    config_init(&cfg);
    ck_assert_msg(config_load_text(&cfg, text, "test", &err), "%s", err ? err->message : "");
    mv = manager_create(&m, name, &cfg, 0, &err);
    ck_assert_msg(mv, "%s", err ? err->message : "");
    config_clear(&cfg);
    return mv;
}

/* --- sessions --------------------------------------------------------------- */

static char *ask(struct qmp_session *s, const char *req)
{
    return qmp_session_handle(s, req, strlen(req));
}

#define expect_reply(s, req, want)                                                     \
    do {                                                                               \
        g_autofree char *got_ = ask((s), (req));                                       \
        ck_assert_msg(strstr(got_, (want)), "%s -> %s (wanted %s)", (req), got_, (want)); \
    } while (0)

START_TEST(session_negotiation)
{
    struct qmp_session s = { .manager = &m };
    g_autofree char *greeting = qmp_greeting();

    ck_assert_ptr_nonnull(strstr(greeting, "\"QMP\":{\"version\":{\"qemu\":{\"major\""));
    ck_assert_ptr_nonnull(strstr(greeting, "\"capabilities\":[]"));
    expect_reply(&s, "{\"execute\":\"query-vms\",\"id\":1}",
                 "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities");
    expect_reply(&s, "{\"execute\":\"query-version\"}", "CommandNotFound");
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}",
                 "Capability 'oob' not available");
    ck_assert(!s.negotiated);
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\",\"id\":\"x\"}", "{\"return\":{},\"id\":\"x\"}");
    ck_assert(s.negotiated);
    expect_reply(&s, "{\"execute\":\"qmp_capabilities\"}", "already complete");
    expect_reply(&s, "{\"execute\":\"query-vms\",\"id\":[1,{\"a\":null}]}",
                 "{\"return\":[],\"id\":[1,{\"a\":null}]}");
}
END_TEST

START_TEST(session_bad_requests)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };

    expect_reply(&s, "[1,2]", "QMP input must be a JSON object");
    expect_reply(&s, "42", "QMP input must be a JSON object");
    expect_reply(&s, "{\"execute\":", "JSON parse error");
    expect_reply(&s, "{\"id\":5}", "lacks member 'execute'\"},\"id\":5");
    expect_reply(&s, "{\"execute\":3}", "'execute' must be a string");
    expect_reply(&s, "{\"execute\":\"quit\",\"arguments\":[]}", "'arguments' must be an object");
    expect_reply(&s, "{\"execute\":\"quit\",\"extra\":1}", "member 'extra' is unexpected");
    expect_reply(&s, "{\"execute\":\"no-such\",\"id\":9}",
                 "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command no-such has not been found\"},\"id\":9}");
    /* Argument schema, before any handler runs. */
    expect_reply(&s, "{\"execute\":\"query-vms\",\"arguments\":{\"x\":1}}", "Parameter 'x' is unexpected");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":1}}",
                 "Invalid parameter type for 'vm', expected: string");
    expect_reply(&s, "{\"execute\":\"query-status\"}", "Parameter 'vm' is missing");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\"}}",
                 "Parameter 'config' is missing");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":5}}",
                 "expected: string or object");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"ghost\"}}",
                 "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"No VM named 'ghost'\"}}");
    ck_assert_uint_eq(fake.builds, 0);
}
END_TEST

START_TEST(session_commands)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };

    expect_reply(&s, "{\"execute\":\"query-commands\"}", "{\"name\":\"query-hypercall-stats\"}");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":"
                     "{\"vm\":{\"memory\":\"16M\",\"vcpus\":2},\"boot\":{\"firmware\":\"spin\"}}}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"a\",\"config\":"
                     "{\"boot\":{\"firmware\":\"spin\"}}}}", "exists already");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"b\",\"config\":"
                     "{\"vm\":{\"vcpus\":\"two\"},\"boot\":{\"firmware\":\"spin\"}}}}",
                 "vm.vcpus: expected an integer");
    expect_reply(&s, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"c\",\"config\":"
                     "{\"boot\":{\"firmware\":\"spin\"},\"nope\":{}}}}", "unknown section");
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"return\":{\"running\":false,\"status\":\"prelaunch\"}}");
    expect_reply(&s, "{\"execute\":\"query-vm\",\"arguments\":{\"vm\":\"a\"}}", "\"vcpus\":2");
    expect_reply(&s, "{\"execute\":\"query-vm\",\"arguments\":{\"vm\":\"a\"}}", "\"memory\":16777216");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"role\":\"restricted\",\"flags\":[]");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"service\","
                     "\"flags\":[\"info\",\"ucall\"],\"services\":{\"vendor-hyp\":[\"vmm-info\"]}}}",
                 "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"role\":\"service\",\"flags\":[\"info\",\"ucall\"]");
    expect_reply(&s, "{\"execute\":\"query-policy\",\"arguments\":{\"vm\":\"a\"}}",
                 "\"vendor-hyp\":[\"vmm-info\"]");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"flags\":[\"root\"]}}",
                 "unknown name 'root'");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"god\"}}",
                 "'role' must be");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"services\":{\"x\":[]}}}",
                 "unknown owner 'x'");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "is prelaunch: stop needs it running");
    expect_reply(&s, "{\"execute\":\"vm-start\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"VM_STARTED\",\"data\":{\"vm\":\"a\",\"id\":1}"));
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"running\":true,\"status\":\"running\"}");
    expect_reply(&s, "{\"execute\":\"set-policy\",\"arguments\":{\"vm\":\"a\",\"role\":\"restricted\"}}",
                 "its policy is fixed once it has run");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert_uint_eq(fake.pauses, 1);
    ck_assert(saw_event("\"event\":\"STOP\""));
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}", "\"status\":\"paused\"");
    expect_reply(&s, "{\"execute\":\"cont\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"RESUME\""));
    expect_reply(&s, "{\"execute\":\"system_powerdown\",\"arguments\":{\"vm\":\"a\"}}", "no power button");
    expect_reply(&s, "{\"execute\":\"system_reset\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    drain(); /* the old build's stop report must be ignored */
    ck_assert(!saw_event("SHUTDOWN"));
    ck_assert(saw_event("\"event\":\"RESET\",\"data\":{\"vm\":\"a\",\"id\":1,\"guest\":false"));
    ck_assert_uint_eq(fake.builds, 2);
    expect_reply(&s, "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"a\"}}", "\"status\":\"running\"");
    expect_reply(&s, "{\"execute\":\"query-hypercall-stats\",\"arguments\":{\"vm\":\"a\"}}",
                 "{\"call\":\"unknown\",\"total\":0");
    expect_reply(&s, "{\"execute\":\"vm-destroy\",\"arguments\":{\"vm\":\"a\"}}", "{\"return\":{}}");
    ck_assert(saw_event("\"event\":\"VM_DESTROYED\""));
    expect_reply(&s, "{\"execute\":\"query-vms\"}", "{\"return\":[]}");
    ck_assert(!s.quit);
    expect_reply(&s, "{\"execute\":\"quit\"}", "{\"return\":{}}");
    ck_assert(s.quit);
}
END_TEST

START_TEST(events_have_timestamps)
{
    g_autofree char *line = qmp_event_line("STOP", NULL);

    ck_assert_ptr_nonnull(strstr(line, "{\"event\":\"STOP\",\"data\":{},\"timestamp\":{\"seconds\":"));
    ck_assert_ptr_nonnull(strstr(line, "\"microseconds\":"));
    ck_assert_ptr_null(strchr(line, '\n'));
}
END_TEST

/* --- manager ---------------------------------------------------------------- */

START_TEST(manager_guest_stop_is_shutdown)
{
    struct mvm *mv = create("g", "spin");
    GError *err = NULL;

    ck_assert(manager_start(&m, "g", &err));
    vm_guest_exit(mv->vm, 7);
    manager_vm_stopped_cb(mv->vm, mv->vm->on_stopped_data);
    drain();
    ck_assert_int_eq(mv->state, MVM_SHUTDOWN);
    ck_assert_int_eq(mv->exit_status, 7);
    ck_assert(saw_event("\"event\":\"SHUTDOWN\",\"data\":{\"vm\":\"g\",\"id\":1,\"guest\":true,"
                        "\"reason\":\"guest-exit\",\"status\":7}"));
    ck_assert(!manager_pause(&m, "g", &err));
    ck_assert_int_eq(err->code, MANAGER_ERROR_STATE);
    g_clear_error(&err);
    /* A reset runs a shut-down VM again. */
    ck_assert(manager_reset(&m, "g", &err));
    ck_assert_int_eq(mv->state, MVM_RUNNING);
    ck_assert(!mv->stopped);
}
END_TEST

START_TEST(manager_crash_event)
{
    struct mvm *mv = create("c", "spin");

    ck_assert(manager_start(&m, "c", NULL));
    vm_stop(mv->vm, VM_STOP_CRASH, 120, "guest crashed: triple fault rip=0x1000");
    manager_vm_stopped_cb(mv->vm, mv->vm->on_stopped_data);
    drain();
    ck_assert(saw_event("\"event\":\"GUEST_CRASHED\""));
    ck_assert(saw_event("rip=0x1000"));
    ck_assert(saw_event("\"reason\":\"guest-crash\",\"status\":120"));
}
END_TEST

START_TEST(manager_build_failure_leaves_nothing)
{
    struct vmm_config cfg;
    GError *err = NULL;

    config_init(&cfg);
    ck_assert(config_load_text(&cfg, "[boot]\nfirmware = \"spin\"\n", "t", &err));
    fake.fail_build = true;
    ck_assert_ptr_null(manager_create(&m, "x", &cfg, 0, &err));
    ck_assert_str_eq(err->message, "fake build failure");
    g_clear_error(&err);
    ck_assert_uint_eq(m.vms->len, 0);
    ck_assert_ptr_null(manager_create(&m, "bad name", &cfg, 0, &err));
    g_clear_error(&err);
    config_clear(&cfg);
}
END_TEST

/* Guest management calls arrive on a vCPU thread and wait for the main
 * context: run them on a thread while this one iterates the context. */
struct guest_op {
    struct vm *caller;
    int op;
    uint64_t arg, out[2];
    int r;
    bool done;
};

static gpointer guest_thread(gpointer data)
{
    struct guest_op *g = data;
    const struct vm_host_ops *h = &manager_host_ops;

    switch (g->op) {
    case 0: g->r = h->vm_create(g->caller, g->arg, &g->out[0]); break;
    case 1: g->r = h->vm_start(g->caller, g->arg); break;
    case 2: g->r = h->vm_stop(g->caller, g->arg); break;
    case 3: g->r = h->vm_destroy(g->caller, g->arg); break;
    case 4: g->r = h->vm_query(g->caller, g->arg, &g->out[0], &g->out[1]); break;
    }
    __atomic_store_n(&g->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static int guest_call(struct mvm *caller, int op, uint64_t arg, uint64_t *out0, uint64_t *out1)
{
    struct guest_op g = { .caller = caller->vm, .op = op, .arg = arg };
    GThread *t = g_thread_new("guest", guest_thread, &g);

    while (!__atomic_load_n(&g.done, __ATOMIC_ACQUIRE))
        g_main_context_iteration(NULL, FALSE);
    g_thread_join(t);
    drain();
    if (out0)
        *out0 = g.out[0];
    if (out1)
        *out1 = g.out[1];
    return g.r;
}

static char *write_image_config(const char *dir, const char *name, unsigned mib)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strdup_printf("[vm]\nmemory = %u\n[boot]\nfirmware = \"spin\"\n"
                                            "[policy]\nrole = \"service\"\n", mib);

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

START_TEST(manager_guest_calls)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-qmp-XXXXXX", NULL);
    g_autofree char *small = write_image_config(dir, "small.toml", 16);
    g_autofree char *big = write_image_config(dir, "big.toml", 64);
    struct mvm *svc, *host_vm, *child;
    uint64_t id = 0, state, status;

    ck_assert(manager_add_image(&m, "small", small, NULL));
    ck_assert(manager_add_image(&m, "big", big, NULL));
    m.quota = (struct manager_quota){ .vms = 2, .memory = 40ULL << 20, .vcpus = 4 };
    svc = create("svc", "spin");
    host_vm = create("host-made", "spin");
    svc->policy.role = VM_ROLE_SERVICE;
    ck_assert(manager_start(&m, "svc", NULL));

    ck_assert_int_eq(guest_call(svc, 0, 7, NULL, NULL), -ENOENT);      /* no image 7 */
    ck_assert_int_eq(guest_call(svc, 0, 1, NULL, NULL), -EDQUOT);      /* 64 MiB > 40 */
    ck_assert_int_eq(guest_call(svc, 0, 0, &id, NULL), 0);
    child = manager_find_id(&m, id);
    ck_assert_ptr_nonnull(child);
    ck_assert_str_eq(child->name, "small-3");
    /* A service guest starts restricted VMs only, and owns them. */
    ck_assert_int_eq(child->policy.role, VM_ROLE_RESTRICTED);
    ck_assert(child->policy.manageable);
    ck_assert_uint_eq(child->owner, svc->id);
    ck_assert_int_eq(guest_call(svc, 0, 0, &id, NULL), 0);             /* 32 MiB of 40 */
    ck_assert_int_eq(guest_call(svc, 0, 0, NULL, NULL), -EDQUOT);      /* 3 VMs > 2 */

    /* Not its own: the host's VM, itself, nothing. */
    ck_assert_int_eq(guest_call(svc, 1, host_vm->id, NULL, NULL), -EPERM);
    ck_assert_int_eq(guest_call(svc, 3, svc->id, NULL, NULL), -EPERM);
    ck_assert_int_eq(guest_call(svc, 4, 999, NULL, NULL), -ENOENT);

    ck_assert_int_eq(guest_call(svc, 4, child->id, &state, &status), 0);
    ck_assert_uint_eq(state, GUEST_VM_PRELAUNCH);
    ck_assert_int_eq(guest_call(svc, 1, child->id, NULL, NULL), 0);
    ck_assert_int_eq(child->state, MVM_RUNNING);
    ck_assert_int_eq(guest_call(svc, 1, child->id, NULL, NULL), -EBUSY);
    ck_assert_int_eq(guest_call(svc, 2, child->id, NULL, NULL), 0);
    ck_assert_int_eq(guest_call(svc, 4, child->id, &state, &status), 0);
    ck_assert_uint_eq(state, GUEST_VM_SHUTDOWN);
    ck_assert_uint_eq(status, 143);
    ck_assert_int_eq(guest_call(svc, 3, child->id, NULL, NULL), 0);
    ck_assert_ptr_null(manager_find_id(&m, 3));
    ck_assert(saw_event("\"event\":\"VM_DESTROYED\",\"data\":{\"vm\":\"small-3\""));

    /* A refused call becomes an event on the main context. */
    manager_host_ops.call_refused(host_vm->vm, 1, 0xc6001020U, "service-only");
    drain();
    ck_assert(saw_event("\"event\":\"HYPERCALL_DENIED\",\"data\":{\"vm\":\"host-made\",\"id\":2,"
                        "\"vcpu\":1,\"call\":3321892896,\"call-name\":"));
    unlink(small);
    unlink(big);
    rmdir(dir);
}
END_TEST

/* A main loop that never answers costs the guest an error, not a hang. */
START_TEST(manager_host_call_bounded)
{
    struct mvm *svc = create("svc", "spin");
    struct guest_op g = { .op = 4, .arg = 1 };
    GThread *t;

    m.host_call_timeout_ms = 50;
    g.caller = svc->vm;
    t = g_thread_new("guest", guest_thread, &g);
    g_thread_join(t); /* nobody iterates the context meanwhile */
    ck_assert_int_eq(g.r, -ETIMEDOUT);
    ck_assert_uint_eq(svc->vm->quiescent, 0);
}
END_TEST

/* --- calls forwarded to a monitor -------------------------------------------- */

struct dispatch_op {
    struct vcpu vcpu;
    struct guest_call call;
    call_status status;
    call_verdict verdict;
    bool done;
};

static gpointer dispatch_thread(gpointer data)
{
    struct dispatch_op *d = data;

    d->verdict = call_dispatch(&d->vcpu, &d->call, &d->status);
    __atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static GThread *dispatch_start(struct dispatch_op *d, struct mvm *mv, uint32_t id)
{
    memset(d, 0, sizeof(*d));
    d->vcpu.vm = mv->vm;
    d->vcpu.id = 0;
    d->call.id = id;
    d->call.args[0] = 7;
    d->call.conduit = CONDUIT_HVC;
    return g_thread_new("vcpu", dispatch_thread, d);
}

/* Iterates the main context until @d is done or an event holding @needle
 * has been recorded. */
static void run_until(struct dispatch_op *d, const char *needle)
{
    while (!__atomic_load_n(&d->done, __ATOMIC_ACQUIRE) && !(needle && saw_event(needle)))
        g_main_context_iteration(NULL, FALSE);
}

static uint64_t last_token(void)
{
    const char *e = strstr(events->pdata[events->len - 1], "\"token\":");

    ck_assert_ptr_nonnull(e);
    return g_ascii_strtoull(e + 8, NULL, 10);
}

START_TEST(monitor_answers_then_times_out)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    struct mvm *mv = create("v", "spin");
    struct dispatch_op d;
    GThread *t;
    uint64_t res[4] = { 0x4242, 1, 2, 3 };
    GError *err = NULL;

    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":3321892864,\"last\":3321892864,\"timeout-ms\":100}}", "{\"return\":{}}");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":3321892860,\"last\":3321892870}}", "claimed already");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":5,\"last\":4}}", "above 'last'");
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":-1,\"last\":4}}", "'first' must be 0 to 4294967295");

    /* Not allowed by the policy (no "info" flag): the monitor never hears of it. */
    ck_assert(manager_start(&m, "v", NULL));
    t = dispatch_start(&d, mv, 0xc6001000U);
    g_thread_join(t);
    drain();
    ck_assert_int_ne(d.verdict, CALL_ALLOWED);
    ck_assert(!saw_event("GUEST_CALL"));
    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"v\","
                     "\"first\":1,\"last\":2}}", "only before it first runs");

    /* Allowed: the monitor answers. */
    mv->vm->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&mv->vm->policy);
    t = dispatch_start(&d, mv, 0xc6001000U);
    run_until(&d, "GUEST_CALL");
    ck_assert(!__atomic_load_n(&d.done, __ATOMIC_ACQUIRE)); /* it waits */
    ck_assert(saw_event("\"event\":\"GUEST_CALL\",\"data\":{\"vm\":\"v\",\"id\":1,\"vcpu\":0,"
                        "\"conduit\":\"hvc\",\"call\":3321892864,\"args\":[7,0,0,0],\"token\":"));
    ck_assert(!manager_call_return(&m, &d, last_token(), res, 4, &err)); /* not its monitor */
    g_clear_error(&err);
    ck_assert(manager_call_return(&m, &s, last_token(), res, 4, &err));
    g_thread_join(t);
    ck_assert_int_eq(d.verdict, CALL_ALLOWED);
    ck_assert_int_eq(d.status, CALL_OK);
    ck_assert_uint_eq(d.call.ret[0], 0x4242);
    ck_assert_uint_eq(d.call.ret[3], 3);
    ck_assert(!manager_call_return(&m, &s, last_token(), res, 4, &err)); /* answered already */
    g_clear_error(&err);

    /* Unanswered: refused after the bound, and later calls at once. */
    g_ptr_array_set_size(events, 0);
    t = dispatch_start(&d, mv, 0xc6001000U);
    run_until(&d, NULL);
    g_thread_join(t);
    ck_assert(saw_event("GUEST_CALL"));
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    g_ptr_array_set_size(events, 0);
    t = dispatch_start(&d, mv, 0xc6001000U);
    g_thread_join(t);
    drain();
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    ck_assert(!saw_event("GUEST_CALL"));
    /* Other calls are not the monitor's. */
    t = dispatch_start(&d, mv, 0xc6001002U); /* whoami */
    g_thread_join(t);
    ck_assert_int_eq(d.status, CALL_OK);
}
END_TEST

START_TEST(monitor_gone_refuses_pending)
{
    struct qmp_session s = { .manager = &m, .negotiated = true };
    struct mvm *mv = create("w", "spin");
    struct dispatch_op d;
    GThread *t;

    expect_reply(&s, "{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"w\","
                     "\"first\":3321892864,\"last\":3321892865,\"timeout-ms\":600000}}", "{\"return\":{}}");
    mv->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&mv->policy);
    ck_assert(manager_start(&m, "w", NULL));
    t = dispatch_start(&d, mv, 0xc6001000U);
    run_until(&d, "GUEST_CALL");
    manager_monitor_gone(&m, &s);
    g_thread_join(t);
    ck_assert_int_eq(d.status, CALL_NOT_SUPPORTED);
    ck_assert_uint_eq(mv->vm->quiescent, 0);
}
END_TEST

/* --- server over a socketpair ------------------------------------------------ */

static char *read_line(int fd)
{
    GString *s = g_string_new(NULL);
    char c;

    for (;;) {
        ssize_t n;

        drain();
        n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 1) {
            g_string_append_c(s, c);
            if (c == '\n')
                break;
        } else if (n == 0) {
            break;
        } else if (errno != EAGAIN) {
            break;
        } else {
            g_main_context_iteration(NULL, TRUE);
        }
    }
    return g_string_free(s, FALSE);
}

static void send_str(int fd, const char *s)
{
    ck_assert_int_eq(send(fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

START_TEST(server_framing_and_events)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a[2], b[2];
    g_autofree char *g1 = NULL, *g2 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *e1 = NULL;
    g_autofree char *r4 = NULL;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    qmp_server_add_client(srv, a[1]);
    qmp_server_add_client(srv, b[1]);
    g1 = read_line(a[0]);
    g2 = read_line(b[0]);
    ck_assert(g_str_has_prefix(g1, "{\"QMP\":"));
    ck_assert(g_str_has_suffix(g1, "}\r\n"));
    /* Split across writes, two in one. */
    send_str(a[0], "{\"execute\":\"qmp_capa");
    drain();
    send_str(a[0], "bilities\"}{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"v\","
                   "\"config\":{\"boot\":{\"firmware\":\"spin\"}}},\"id\":2}");
    r1 = read_line(a[0]);
    r2 = read_line(a[0]);
    ck_assert_str_eq(r1, "{\"return\":{}}\r\n");
    ck_assert_str_eq(r2, "{\"return\":{},\"id\":2}\r\n");
    send_str(a[0], "{\"execute\":\"vm-start\",\"arguments\":{\"vm\":\"v\"}}");
    r3 = read_line(a[0]);
    e1 = read_line(a[0]);
    /* The reply, then the event: or the other way round; both lines. */
    ck_assert(strstr(r3, "VM_STARTED") || strstr(e1, "VM_STARTED"));
    /* b never negotiated: no event reached it; its next line is a reply. */
    send_str(b[0], "{\"execute\":\"query-vms\"}");
    r4 = read_line(b[0]);
    ck_assert_msg(strstr(r4, "CommandNotFound"), "%s", r4);
    ck_assert_uint_eq(qmp_server_client_count(srv), 2);

    /* A client vanishing mid-command leaves the server and the other. */
    send_str(b[0], "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-vms\"");
    close(b[0]);
    drain();
    g_main_context_iteration(NULL, FALSE);
    drain();
    ck_assert_uint_eq(qmp_server_client_count(srv), 1);
    close(a[0]);
    drain();
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);
    qmp_server_free(srv);
}
END_TEST

START_TEST(server_oversize_closes)
{
    struct qmp_server *srv = qmp_server_new(&m, NULL, NULL);
    int a[2];
    g_autofree char *g = NULL, *r = NULL, *end = NULL;
    char chunk[65536];
    size_t sent = 0;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    qmp_server_add_client(srv, a[1]);
    g = read_line(a[0]);
    memset(chunk, 'x', sizeof(chunk));
    send_str(a[0], "{\"execute\":\"qmp_capabilities\",\"id\":\"");
    g_unix_set_fd_nonblocking(a[0], TRUE, NULL);
    while (sent <= QMP_MAX_MESSAGE + sizeof(chunk)) {
        ssize_t n = send(a[0], chunk, sizeof(chunk), MSG_NOSIGNAL);

        if (n > 0)
            sent += n;
        else if (errno == EAGAIN)
            g_main_context_iteration(NULL, FALSE);
        else
            break;
    }
    r = read_line(a[0]);
    ck_assert_msg(strstr(r, "too large"), "%s", r);
    end = read_line(a[0]);
    ck_assert_str_eq(end, ""); /* closed */
    ck_assert_uint_eq(qmp_server_client_count(srv), 0);
    close(a[0]);
    qmp_server_free(srv);
}
END_TEST

static Suite *qmp_suite(void)
{
    Suite *s = suite_create("qmp");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, split_coalesced_and_split);
    tcase_add_test(tc, split_scalars_and_strays);
    tcase_add_test(tc, split_limits);
    tcase_add_test(tc, events_have_timestamps);
    suite_add_tcase(s, tc);

    tc = tcase_create("session");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, session_negotiation);
    tcase_add_test(tc, session_bad_requests);
    tcase_add_test(tc, session_commands);
    suite_add_tcase(s, tc);

    tc = tcase_create("manager");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, manager_guest_stop_is_shutdown);
    tcase_add_test(tc, manager_crash_event);
    tcase_add_test(tc, manager_build_failure_leaves_nothing);
    tcase_add_test(tc, manager_guest_calls);
    tcase_add_test(tc, manager_host_call_bounded);
    tcase_add_test(tc, monitor_answers_then_times_out);
    tcase_add_test(tc, monitor_gone_refuses_pending);
    suite_add_tcase(s, tc);

    tc = tcase_create("server");
    tcase_add_checked_fixture(tc, fake_setup, fake_teardown_all);
    tcase_add_test(tc, server_framing_and_events);
    tcase_add_test(tc, server_oversize_closes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(qmp_suite());
}
