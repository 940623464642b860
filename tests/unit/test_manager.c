/*
 * The manager's lifetimes, on fake VMs: a service guest's VM call that
 * timed out never runs later, one the main loop has begun is waited for;
 * images are parsed once, when they are registered, and a VM_CREATE reads
 * no file; VMs made from images are created, reset and destroyed without
 * leaks (run under LeakSanitizer: meson setup build-asan
 * -Db_sanitize=address,undefined).
 */
#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>

#include "vmm/arch.h"
#include "vmm/manager.h"
#include "vmm/vm-host.h"

#include "../fake_backend.h"
#include "unit.h"

static struct manager m;
static char *dir;
static struct mvm *svc;

static void drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

/* An image config and its firmware in the test's folder. */
static char *write_image(const char *name, unsigned mib)
{
    g_autofree char *fw = g_build_filename(dir, "fw.elf", NULL);
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strdup_printf("[vm]\nmemory = %u\n[boot]\nfirmware = \"fw.elf\"\n"
                                            "[policy]\nrole = \"service\"\n", mib);
    uint8_t elf[UNIT_ELF_SIZE];
    uint64_t lo, hi;
    size_t n;

    arch_load_window(16 << 20, 1, &lo, &hi);
    n = unit_make_elf(elf, arch_elf_machine(), lo, 0x1000, lo);
    ck_assert(g_file_set_contents(fw, (char *)elf, n, NULL));
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void setup(void)
{
    g_autofree char *small = NULL, *big = NULL;
    struct vmm_config cfg;
    GError *err = NULL;

    memset(&fake, 0, sizeof(fake));
    manager_init(&m, &fake_backend, NULL);
    dir = g_dir_make_tmp("vmm-manager-XXXXXX", NULL);
    ck_assert_ptr_nonnull(dir);
    small = write_image("small.toml", 16);
    big = write_image("big.toml", 64);
    ck_assert_msg(manager_add_image(&m, "small", small, &err), "%s", err ? err->message : "");
    ck_assert(manager_add_image(&m, "big", big, NULL));
    m.quota = (struct manager_quota){ .vms = 2, .memory = 40ULL << 20, .vcpus = 4 };

    /* The service VM, made by the host from the same files. */
    config_init(&cfg);
    ck_assert(config_load(&cfg, small, NULL));
    svc = manager_create(&m, "svc", &cfg, 0, NULL);
    config_clear(&cfg);
    ck_assert_ptr_nonnull(svc);
    svc->policy.role = VM_ROLE_SERVICE;
    ck_assert(manager_start(&m, "svc", NULL));
}

static void teardown(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    drain();
    manager_clear(&m);
    g_assert(system(cmd) == 0);
    g_free(dir);
}

/* --- a service guest's calls, from a "vCPU" thread ------------------------- */

struct guest_op {
    struct mvm_ref *caller;
    bool create;              /* VM_CREATE of image @arg, else VM_QUERY of VM @arg */
    uint64_t arg, out[2];
    int r;
    int done;
};

static gpointer guest_thread(gpointer data)
{
    struct guest_op *g = data;

    g->r = manager_host_call(g->caller, g->create ? MANAGER_HOST_CREATE : MANAGER_HOST_QUERY,
                             g->arg, g->out);
    __atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* VM_CREATE of image @index with the main context served meanwhile. */
static int create_served(uint64_t index, uint64_t *id)
{
    struct guest_op g = { .caller = svc->build_ref, .create = true, .arg = index };
    GThread *t = g_thread_new("guest", guest_thread, &g);

    while (!__atomic_load_n(&g.done, __ATOMIC_ACQUIRE))
        g_main_context_iteration(NULL, FALSE);
    g_thread_join(t);
    drain();
    *id = g.out[0];
    return g.r;
}

/* The main loop is late: the guest gives up, and the call it gave up on
 * never runs, even when the main loop comes back to it. */
START_TEST(timed_out_call_never_runs)
{
    struct guest_op g = { .caller = svc->build_ref, .create = true, .arg = 0 };
    GThread *t;

    m.host_call_timeout_ms = 50;
    t = g_thread_new("guest", guest_thread, &g);
    g_thread_join(t); /* nobody iterates the main context meanwhile */
    ck_assert_int_eq(g.r, -ETIMEDOUT);
    ck_assert_uint_eq(fake_vm_blocked(svc), 0);
    drain(); /* the main loop, late */
    ck_assert_uint_eq(m.vms->len, 1);
    ck_assert_uint_eq(fake.builds, 1);
}
END_TEST

/* A stop of the calling VM ends its wait: that call does not run later
 * either (a system_reset of the service VM must not replay it). */
START_TEST(call_of_a_stopping_vm_never_runs)
{
    struct guest_op g = { .caller = svc->build_ref, .create = true, .arg = 0 };
    GThread *t;

    fake_vm_stop(svc, VM_STOP_HOST, 143, NULL, false);
    t = g_thread_new("guest", guest_thread, &g);
    g_thread_join(t);
    ck_assert_int_eq(g.r, -ETIMEDOUT);
    drain();
    ck_assert_uint_eq(m.vms->len, 1);
}
END_TEST

/* A stop of the calling VM while its call waits for the main loop ends
 * the wait at once, not at the bound (10 minutes here), and the call never
 * runs. */
START_TEST(waiting_call_ends_when_its_vm_stops)
{
    struct guest_op g = { .caller = svc->build_ref, .create = true, .arg = 0 };
    gint64 t0 = g_get_monotonic_time();
    GThread *t;

    m.host_call_timeout_ms = 600000;
    t = g_thread_new("guest", guest_thread, &g);
    while (!fake_vm_blocked(svc) && !__atomic_load_n(&g.done, __ATOMIC_ACQUIRE))
        g_usleep(1000);
    fake_vm_stop(svc, VM_STOP_GUEST_EXIT, 0, NULL, false);
    g_thread_join(t);
    ck_assert_int_eq(g.r, -ETIMEDOUT);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 60 * G_TIME_SPAN_SECOND);
    ck_assert_uint_eq(fake_vm_blocked(svc), 0);
    drain();
    ck_assert_uint_eq(m.vms->len, 1);
}
END_TEST

/* The main loop took the call in time but finishes it after the guest's
 * bound: the guest gets its result, the VM it created. */
START_TEST(begun_call_is_waited_for)
{
    uint64_t id = 0;

    /* The main loop must take the call within the bound, which on a loaded
     * machine (a sanitizer build beside a test bed) takes a while. */
    m.host_call_timeout_ms = 1000;
    fake.build_delay_ms = 1500;
    ck_assert_int_eq(create_served(0, &id), 0);
    ck_assert_uint_eq(m.vms->len, 2);
    ck_assert_ptr_nonnull(manager_find_id(&m, id));
}
END_TEST

/* The image files are read when the image is registered, never again:
 * removed or changed afterwards, the guest still gets what was checked,
 * and the quota is decided without them. */
START_TEST(images_parsed_once)
{
    g_autofree char *small = g_build_filename(dir, "small.toml", NULL);
    g_autofree char *fw = g_build_filename(dir, "fw.elf", NULL);
    const struct manager_image *img = &g_array_index(m.images, struct manager_image, 0);
    struct mvm *child;
    uint64_t id = 0;

    ck_assert_int_eq(img->cfg.policy.role, VM_ROLE_RESTRICTED);
    ck_assert_uint_eq(img->cfg.image_size, UNIT_ELF_SIZE);
    /* The big image (64 MiB) is over the 40 MiB quota, so the small one
     * takes 16 MiB, then 32: the third is over the VM count. */
    ck_assert(g_file_set_contents(small, "[vm]\nmemory = 1\n", -1, NULL));
    ck_assert_int_eq(g_unlink(fw), 0);
    ck_assert_int_eq(create_served(1, &id), -EDQUOT);
    ck_assert_int_eq(create_served(0, &id), 0);
    child = manager_find_id(&m, id);
    ck_assert_ptr_nonnull(child);
    ck_assert_uint_eq(child->cfg.memory, 16 << 20);
    ck_assert_uint_eq(child->cfg.image_size, UNIT_ELF_SIZE);
    ck_assert_int_eq(child->policy.role, VM_ROLE_RESTRICTED);
    ck_assert_str_eq(child->cfg.name, child->name);
    ck_assert_int_eq(g_unlink(small), 0);
    ck_assert_int_eq(create_served(0, &id), 0);
    ck_assert_int_eq(create_served(0, &id), -EDQUOT);
    ck_assert_uint_eq(fake.builds, 3);
}
END_TEST

/* Many VMs from one image, reset and destroyed: the image's config is
 * shared, never freed with a VM, and nothing leaks. */
START_TEST(image_vms_reset_and_destroyed)
{
    m.quota = (struct manager_quota){ .vms = 1000, .memory = 1ULL << 40, .vcpus = 1000 };
    for (int i = 0; i < 50; i++) {
        uint64_t id = 0;
        struct mvm *child;

        ck_assert_int_eq(create_served(i % 2, &id), 0);
        child = manager_find_id(&m, id);
        ck_assert(manager_reset(&m, child->name, NULL));
        ck_assert(manager_start(&m, child->name, NULL));
        ck_assert(manager_reset(&m, child->name, NULL));
        if (i % 3)
            ck_assert(manager_destroy(&m, child->name, NULL));
    }
    drain();
    ck_assert_uint_eq(m.images->len, 2);
    ck_assert_uint_eq(g_array_index(m.images, struct manager_image, 0).cfg.image_size,
                      UNIT_ELF_SIZE);
}
END_TEST

static unsigned guest_call_events;

static void count_guest_calls(const struct manager_event *ev, void *opaque)
{
    if (ev->kind == MEV_GUEST_CALL)
        guest_call_events++;
}

/* The same for a call forwarded to an external monitor: one the vCPU
 * gave up on before the main loop came to it is never shown to the
 * monitor, and cannot be answered. */
START_TEST(timed_out_monitor_call_never_reaches_the_monitor)
{
    static const int monitor = 0;
    struct guest_call call = { .id = 0xc6001000U, .conduit = CONDUIT_HVC };
    struct mvm *w = manager_create_from_image(&m, "w", 0, 0, NULL);
    call_status status = CALL_OK;
    GError *err = NULL;
    uint64_t res[1] = { 1 };

    ck_assert_ptr_nonnull(w);
    m.on_event = count_guest_calls;
    ck_assert(manager_monitor_calls(&m, "w", &monitor, call.id, call.id, 50, NULL));
    ck_assert(manager_start(&m, "w", NULL));
    ck_assert(manager_forward_call(w->build_ref, 0, &call, &status)); /* nobody iterates */
    ck_assert_int_eq(status, CALL_NOT_SUPPORTED);
    drain();
    ck_assert_uint_eq(guest_call_events, 0);
    ck_assert(!manager_call_return(&m, &monitor, 1, res, 1, &err));
    g_clear_error(&err);
    ck_assert_uint_eq(fake_vm_blocked(w), 0);
}
END_TEST

/* A VM named by its config (vmm run --qmp, a [[vm]] without a name): the
 * name outlives the config it came from. */
START_TEST(vm_named_by_its_config)
{
    g_autofree char *small = g_build_filename(dir, "small.toml", NULL);
    struct vmm_config cfg;
    struct mvm *mv;

    config_init(&cfg);
    ck_assert(config_load(&cfg, small, NULL));
    mv = manager_create(&m, NULL, &cfg, 0, NULL);
    config_clear(&cfg);
    ck_assert_ptr_nonnull(mv);
    ck_assert_str_eq(mv->name, "small");
    ck_assert_str_eq(mv->cfg.name, "small");
}
END_TEST

START_TEST(bad_image_refused_at_start)
{
    g_autofree char *bad = g_build_filename(dir, "bad.toml", NULL);
    GError *err = NULL;

    ck_assert(g_file_set_contents(bad, "[vm]\nmemory = 16\n[boot]\nfirmware = \"nope.elf\"\n",
                                  -1, NULL));
    ck_assert(!manager_add_image(&m, "bad", bad, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "nope.elf"));
    g_error_free(err);
    ck_assert_uint_eq(m.images->len, 2);
}
END_TEST

/* With [vm] hyperv, vmcall is KVM's Hyper-V's: a set-policy that allows a
 * call is refused when it is made, not when the VM starts, and the
 * policy the VM had stays. */
START_TEST(hyperv_vm_refuses_a_policy_with_calls)
{
    g_autofree char *small = g_build_filename(dir, "small.toml", NULL);
    struct vmm_config cfg;
    struct vm_policy p;
    struct mvm *mv;
    GError *err = NULL;

    config_init(&cfg);
    ck_assert(config_load(&cfg, small, NULL));
    cfg.hyperv = true;
    cfg.policy.role = VM_ROLE_RESTRICTED;
    cfg.policy.flags = 0;
    policy_update(&cfg.policy);
    mv = manager_create(&m, "hv", &cfg, 0, NULL);
    config_clear(&cfg);
    ck_assert_ptr_nonnull(mv);
    policy_init(&p);
    p.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    ck_assert(!manager_set_policy(&m, "hv", &p, &err));
    ck_assert_msg(strstr(err->message, "hv: [vm] hyperv gives vmcall to KVM's Hyper-V") &&
                  strstr(err->message, "this policy allows some call"), "%s", err->message);
    g_clear_error(&err);
    ck_assert(!mv->policy.may_call);
    ck_assert_uint_eq(mv->policy.flags, 0);
    policy_init(&p);
    p.role = VM_ROLE_SERVICE;
    ck_assert(!manager_set_policy(&m, "hv", &p, &err));
    g_clear_error(&err);
    policy_init(&p);
    ck_assert_msg(manager_set_policy(&m, "hv", &p, &err), "%s", err ? err->message : "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("manager");
    TCase *tc = tcase_create("manager");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, timed_out_call_never_runs);
    tcase_add_test(tc, call_of_a_stopping_vm_never_runs);
    tcase_add_test(tc, waiting_call_ends_when_its_vm_stops);
    tcase_add_test(tc, begun_call_is_waited_for);
    tcase_add_test(tc, images_parsed_once);
    tcase_add_test(tc, image_vms_reset_and_destroyed);
    tcase_add_test(tc, timed_out_monitor_call_never_reaches_the_monitor);
    tcase_add_test(tc, vm_named_by_its_config);
    tcase_add_test(tc, bad_image_refused_at_start);
    tcase_add_test(tc, hyperv_vm_refuses_a_policy_with_calls);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
