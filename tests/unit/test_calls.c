/*
 * The call dispatcher without KVM: the decision as a full truth table,
 * the table's shape and lookups, the policy from a config, and the rule
 * that a policy is fixed once the VM has run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/calls.h"
#include "vmm/policy.h"
#include "vmm/toml.h"
#include "vmm/vm.h"
#include "vmm-guest/call-list.h"
#include "vmm-guest/calls.h"

#include "unit.h"

#define INFO GUEST_FLAG(GUEST_FLAG_INFO)
#define CONSOLE GUEST_FLAG(GUEST_FLAG_CONSOLE)
#define UCALL GUEST_FLAG(GUEST_FLAG_UCALL)
#define ALL_FLAGS (INFO | CONSOLE | UCALL)

/* The rules as the issue states them, in the order a guest meets them:
 * a VM that may call nothing faults (#UD) whatever it calls; then the
 * privilege level (#GP); then what the call is and whether this VM may
 * have it. Written out separately from call_decide() on purpose. */
static call_verdict expected(vm_role role, uint32_t flags, bool known, uint32_t perm,
                             bool service_on, unsigned privilege)
{
    bool some_call = role == VM_ROLE_SERVICE;

    /* Could any entry of the real table be called with these flags? */
    for (size_t i = 0; i < call_table_len; i++)
        if (call_table[i].perm != 0 && (call_table[i].perm & ~flags) == 0)
            some_call = true;
    if (!some_call)
        return CALL_REFUSED_NO_CALLS;
    if (privilege > 0)
        return CALL_REFUSED_PRIVILEGE;
    if (!known)
        return CALL_REFUSED_UNKNOWN;
    if (!service_on)
        return CALL_REFUSED_SERVICE;
    if (perm == 0)
        return role == VM_ROLE_SERVICE ? CALL_ALLOWED : CALL_REFUSED_ROLE;
    for (int f = 0; f < GUEST_FLAG_COUNT; f++)
        if ((perm & GUEST_FLAG(f)) && !(flags & GUEST_FLAG(f)))
            return CALL_REFUSED_FLAGS;
    return CALL_ALLOWED;
}

START_TEST(truth_table)
{
    static const uint32_t perms[] = { 0, INFO, CONSOLE, UCALL, INFO | CONSOLE, ALL_FLAGS };
    static const unsigned privileges[] = { 0, 1, 3 };
    unsigned rows = 0, allowed = 0;

    for (int role = 0; role < 2; role++)
    for (uint32_t flags = 0; flags <= ALL_FLAGS; flags++)
    for (size_t p = 0; p < G_N_ELEMENTS(perms); p++)
    for (size_t l = 0; l < G_N_ELEMENTS(privileges); l++)
    for (int known = 0; known < 2; known++)
    for (int on = 0; on < 2; on++) {
        struct vm_policy pol;
        struct call_entry e = { .first = 1, .last = 1, .name = "synthetic",
                                .perm = perms[p], .service = SVC_VMM_INFO };
        call_verdict want, got;

        policy_init(&pol);
        pol.role = role;
        pol.flags = flags;
        if (!on)
            pol.services &= ~SVC_BIT(SVC_VMM_INFO);
        policy_update(&pol);
        got = call_decide(&pol, known ? &e : NULL, privileges[l]);
        want = expected(role, flags, known, perms[p], on, privileges[l]);
        ck_assert_msg(got == want, "role %d flags %#x perm %#x cpl %u known %d on %d: "
                      "got %s, expected %s", role, flags, perms[p], privileges[l], known, on,
                      call_verdict_names[got], call_verdict_names[want]);
        rows++;
        allowed += got == CALL_ALLOWED;
    }
    ck_assert_uint_eq(rows, 2 * 8 * 6 * 3 * 2 * 2);
    ck_assert_uint_gt(allowed, 0);
}
END_TEST

/* A few rows by hand, as a reader would check them. */
START_TEST(spot_checks)
{
    struct vm_policy p;
    const struct call_entry *version = call_lookup(VMM_CALL_VERSION);
    const struct call_entry *create = call_lookup(VMM_CALL_VM_CREATE);

    policy_init(&p);                         /* restricted, no flags */
    ck_assert(!p.may_call);
    ck_assert_int_eq(call_decide(&p, version, 0), CALL_REFUSED_NO_CALLS);
    p.flags = INFO;
    policy_update(&p);
    ck_assert_int_eq(call_decide(&p, version, 0), CALL_ALLOWED);
    ck_assert_int_eq(call_decide(&p, version, 3), CALL_REFUSED_PRIVILEGE);
    ck_assert_int_eq(call_decide(&p, create, 0), CALL_REFUSED_ROLE);
    ck_assert_int_eq(call_decide(&p, NULL, 0), CALL_REFUSED_UNKNOWN);
    p.role = VM_ROLE_SERVICE;
    policy_update(&p);
    ck_assert_int_eq(call_decide(&p, create, 0), CALL_ALLOWED);
    p.services &= ~SVC_BIT(SVC_VMM_VM);
    ck_assert_int_eq(call_decide(&p, create, 0), CALL_REFUSED_SERVICE);
    /* A service VM with no flags may call the service-only entries. */
    policy_init(&p);
    p.role = VM_ROLE_SERVICE;
    policy_update(&p);
    ck_assert(p.may_call);
    ck_assert_int_eq(call_decide(&p, version, 0), CALL_REFUSED_FLAGS);
}
END_TEST

START_TEST(table_shape)
{
    ck_assert(call_table_check());
    for (size_t i = 0; i < call_table_len; i++) {
        const struct call_entry *e = &call_table[i];

        ck_assert_ptr_eq(call_lookup(e->first), e);
        ck_assert_ptr_eq(call_lookup(e->last), e);
        /* vmm's own functions stay in its documented range. */
        ck_assert(e->first == VMM_CALL_VENDOR_HYP_UID ||
                  e->first == VMM_CALL_VENDOR_HYP_REVISION ||
                  (e->first >= VMM_CALL_BASE && e->last <= VMM_CALL_LAST));
    }
    ck_assert_ptr_null(call_lookup(0));
    ck_assert_ptr_null(call_lookup(0xc60010feU));
    ck_assert_ptr_null(call_lookup(0x8600ff02U));
    ck_assert_ptr_null(call_lookup(UINT32_MAX));
    ck_assert_ptr_null(call_lookup(SMCCC_VERSION_ID));
    /* Every ID of vmm's range and its edges: the entry with that ID, or
     * none (the range is looked up by offset, the rest by bisection). */
    for (uint32_t id = VMM_CALL_BASE - 1; id <= VMM_CALL_LAST + 1; id++) {
        const struct call_entry *found = NULL;

        for (size_t i = 0; i < call_table_len; i++)
            if (id >= call_table[i].first && id <= call_table[i].last)
                found = &call_table[i];
        ck_assert_ptr_eq(call_lookup(id), found);
    }
}
END_TEST

/* The function IDs are the ABI: guests are built against them, so moving
 * one in call-list.h must fail here, not in the field. */
START_TEST(ids_are_the_abi)
{
    static const struct { uint32_t id, abi; } ids[] = {
        { VMM_CALL_VENDOR_HYP_UID, 0x8600ff01U }, { VMM_CALL_VENDOR_HYP_REVISION, 0x8600ff03U },
        { VMM_CALL_VERSION, 0xc6001000U }, { VMM_CALL_FEATURES, 0xc6001001U },
        { VMM_CALL_WHOAMI, 0xc6001002U }, { VMM_CALL_CONSOLE_WRITE, 0xc6001010U },
        { VMM_CALL_VM_CREATE, 0xc6001020U }, { VMM_CALL_VM_START, 0xc6001021U },
        { VMM_CALL_VM_STOP, 0xc6001022U }, { VMM_CALL_VM_DESTROY, 0xc6001023U },
        { VMM_CALL_VM_QUERY, 0xc6001024U }, { VMM_CALL_UCALL_PRINT, 0xc6001030U },
        { VMM_CALL_UCALL_SYNC, 0xc6001031U }, { VMM_CALL_UCALL_DONE, 0xc6001032U },
        { VMM_CALL_UCALL_ABORT, 0xc6001033U },
    };

    /* A call added to the list gets its row here too. */
    ck_assert_uint_eq(G_N_ELEMENTS(ids), call_table_len);
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
        ck_assert_uint_eq(ids[i].id, ids[i].abi);
}
END_TEST

/* "VMM_INFO" -> "vmm-info": how tools/abi-reference names a list token in
 * docs/abi.md, written here with GLib to check it independently. */
static char *token_as_policy_name(const char *token)
{
    return g_strdelimit(g_ascii_strdown(token, -1), "_", '-');
}

/* The table is the list, entry for entry, and the names docs/abi.md gives
 * a call's flag and service are the ones [policy] accepts. */
START_TEST(table_is_the_list)
{
    size_t i = 0;

#define CHECK_ENTRY(c, id_, name_, handler_, perm_, service_, results_, nargs_, probe_, ...) \
    do { \
        const struct call_entry *e = &call_table[i++]; \
        g_autofree char *svc = token_as_policy_name(#service_); \
        g_autofree char *flag = token_as_policy_name(#perm_); \
        ck_assert_uint_eq(e->first, VMM_CALL_##c); \
        ck_assert_uint_eq(e->first, id_); \
        ck_assert_str_eq(e->name, name_); \
        ck_assert(e->handler == handler_); \
        ck_assert_uint_eq(e->nr_results, results_); \
        ck_assert_uint_eq(e->nr_args, nargs_); \
        ck_assert_int_eq(e->probe, probe_); \
        ck_assert_str_eq(service_table[e->service].name, svc); \
        if (e->perm == 0) { \
            ck_assert_str_eq(flag, "service-only"); \
        } else { \
            guest_flag f; \
            ck_assert(policy_flag_from_name(flag, &f)); \
            ck_assert_uint_eq(e->perm, GUEST_FLAG(f)); \
        } \
    } while (0);
    VMM_CALL_LIST(CHECK_ENTRY)
#undef CHECK_ENTRY
    ck_assert_uint_eq(i, call_table_len);
}
END_TEST

static bool policy_from_text(const char *text, struct vm_policy *p, GError **error)
{
    toml_value *root = toml_parse(text, strlen(text), "policy.toml", error);
    bool ok;

    if (!root)
        return false;
    policy_init(p);
    ok = policy_from_toml(p, root, error);
    toml_free(root);
    return ok;
}

START_TEST(policy_config)
{
    struct vm_policy p;
    GError *error = NULL;

    ck_assert(policy_from_text("", &p, &error));
    ck_assert_int_eq(p.role, VM_ROLE_RESTRICTED);
    ck_assert_uint_eq(p.flags, 0);
    ck_assert(p.services == policy_supported_services());

    ck_assert(policy_from_text("[policy]\nrole = \"service\"\nflags = [\"console\"]\n"
                               "[policy.services]\nvendor-hyp = [\"vmm-console\"]\n",
                               &p, &error));
    ck_assert_int_eq(p.role, VM_ROLE_SERVICE);
    ck_assert_uint_eq(p.flags, CONSOLE);
    ck_assert(p.services & SVC_BIT(SVC_VMM_CONSOLE));
    ck_assert(!(p.services & SVC_BIT(SVC_VMM_INFO)));
    ck_assert(!(p.services & SVC_BIT(SVC_VMM_UCALL)));

    ck_assert(!policy_from_text("[policy]\nrole = \"root\"\n", &p, &error));
    ck_assert_str_eq(error->message, "policy.toml:2:1: policy.role: \"root\" is not a role "
                     "(\"service\" or \"restricted\")");
    g_clear_error(&error);
    ck_assert(!policy_from_text("[policy]\nflags = [\"info\", 3]\n", &p, &error));
    ck_assert_msg(strstr(error->message, "policy.toml:2:18: policy.flags: expected strings"),
                  "%s", error->message);
    g_clear_error(&error);
    /* a NUL must not make "info\u0000x" pass as "info" */
    ck_assert(!policy_from_text("[policy]\nflags = [\"info\\u0000x\"]\n", &p, &error));
    g_clear_error(&error);
    ck_assert(!policy_from_text("[policy.services]\nvendor-hyp = [\"vmm-info\\u0000\"]\n",
                                &p, &error));
    g_clear_error(&error);
    ck_assert(!policy_from_text("[policy]\nflags = \"info\"\n", &p, &error));
    ck_assert_msg(strstr(error->message, "policy.flags: expected an array"), "%s",
                  error->message);
    g_clear_error(&error);
    ck_assert(!policy_from_text("[policy.services]\nsecure = []\n", &p, &error));
    ck_assert_msg(strstr(error->message, "unknown key \"secure\" in [policy.services]"),
                  "%s", error->message);
    g_clear_error(&error);
    ck_assert(!policy_from_text("[policy.services]\nstandard = [\"vmm-info\"]\n", &p, &error));
    ck_assert_msg(strstr(error->message, "\"vmm-info\" is not a standard service"), "%s",
                  error->message);
    g_clear_error(&error);
}
END_TEST

START_TEST(policy_fixed_after_run)
{
    struct vm vm = { .name = "t", .calls = vm_calls_new() };
    struct vm_policy p;
    GError *error = NULL;

    policy_init(&p);
    p.flags = INFO;
    ck_assert(vm_set_policy(&vm, &p, &error));
    ck_assert(vm.calls->policy.may_call);
    vm.calls->policy.frozen = true;          /* what vm_start()'s calls hook does */
    p.flags = ALL_FLAGS;
    ck_assert(!vm_set_policy(&vm, &p, &error));
    ck_assert_str_eq(error->message, "t: the policy is fixed once the VM has run");
    ck_assert_uint_eq(vm.calls->policy.flags, INFO);
    g_clear_error(&error);
    vm_calls_free(vm.calls);
}
END_TEST

/* A guest that calls ucall sync in a tight loop gets a burst of lines, then
 * a few a second, not one per call (one guest wrote 6.5 MB of log in a
 * second). */
START_TEST(guest_log_is_rate_limited)
{
    static struct vm vm;
    struct vcpu vcpu = { .vm = &vm, .id = 0 };
    char path[] = "/tmp/vmm-unit-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    g_autofree char *log = NULL;
    unsigned lines = 0;
    call_status st;

    ck_assert_int_ge(fd, 0);
    memset(&vm, 0, sizeof(vm));
    vm.name = "t";
    g_mutex_init(&vm.lock);
    g_cond_init(&vm.cond);
    vm.calls = vm_calls_new();
    vm.calls->policy.flags = GUEST_FLAG(GUEST_FLAG_UCALL);
    policy_update(&vm.calls->policy);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    for (int i = 0; i < 5000; i++) {
        struct guest_call call = { .id = VMM_CALL_UCALL_SYNC, .args = { i },
                                   .conduit = CONDUIT_UCALL };

        ck_assert_int_eq(call_dispatch(&vcpu, &call, &st), CALL_ALLOWED);
    }
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ck_assert(g_file_get_contents(path, &log, NULL, NULL));
    for (const char *p = log; *p; p++)
        lines += *p == '\n';
    /* the burst, and 10 a second after it: a loop this short takes well
     * under a second */
    ck_assert_msg(lines >= SYNC_LOG_BURST && lines <= SYNC_LOG_BURST + 20,
                  "%u log lines for 5000 syncs", lines);
    unlink(path);
    close(fd);
    vm_calls_free(vm.calls);
    g_mutex_clear(&vm.lock);
    g_cond_clear(&vm.cond);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calls");
    TCase *tc = tcase_create("dispatcher");

    tcase_add_test(tc, truth_table);
    tcase_add_test(tc, spot_checks);
    tcase_add_test(tc, table_shape);
    tcase_add_test(tc, ids_are_the_abi);
    tcase_add_test(tc, table_is_the_list);
    tcase_add_test(tc, policy_config);
    tcase_add_test(tc, policy_fixed_after_run);
    tcase_add_test(tc, guest_log_is_rate_limited);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
