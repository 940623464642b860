#include <string.h>

#include "vmm/arch.h"
#include "vmm/calls.h"
#include "vmm/error.h"
#include "vmm/policy.h"
#include "vmm/toml.h"

const struct service_desc service_table[SVC_COUNT] = {
    [SVC_TRNG] = { "trng", SVC_OWNER_STANDARD, 0 },
    [SVC_PV_TIME] = { "pv-time", SVC_OWNER_STANDARD_HYP, 0 },
    [SVC_KVM_FEATURES] = { "kvm-features", SVC_OWNER_VENDOR_HYP, 0 },
    [SVC_KVM_PTP] = { "kvm-ptp", SVC_OWNER_VENDOR_HYP, 1 },
    [SVC_VMM_INFO] = { "vmm-info", SVC_OWNER_VENDOR_HYP, -1 },
    [SVC_VMM_CONSOLE] = { "vmm-console", SVC_OWNER_VENDOR_HYP, -1 },
    [SVC_VMM_UCALL] = { "vmm-ucall", SVC_OWNER_VENDOR_HYP, -1 },
    [SVC_VMM_VM] = { "vmm-vm", SVC_OWNER_VENDOR_HYP, -1 },
};
/* An enum entry without a name would be silently unusable. */
G_STATIC_ASSERT(G_N_ELEMENTS(service_table) == SVC_COUNT);

const char *const service_owner_names[SVC_OWNER_COUNT] = {
    [SVC_OWNER_STANDARD] = "standard",
    [SVC_OWNER_STANDARD_HYP] = "standard-hyp",
    [SVC_OWNER_VENDOR_HYP] = "vendor-hyp",
};
G_STATIC_ASSERT(G_N_ELEMENTS(service_owner_names) == SVC_OWNER_COUNT);

const char *const guest_flag_names[GUEST_FLAG_COUNT] = {
    [GUEST_FLAG_INFO] = "info",
    [GUEST_FLAG_CONSOLE] = "console",
    [GUEST_FLAG_UCALL] = "ucall",
};
G_STATIC_ASSERT(G_N_ELEMENTS(guest_flag_names) == GUEST_FLAG_COUNT);

uint64_t policy_supported_services(void)
{
    return SVC_BIT(SVC_VMM_INFO) | SVC_BIT(SVC_VMM_CONSOLE) | SVC_BIT(SVC_VMM_UCALL) |
           SVC_BIT(SVC_VMM_VM) | arch_kvm_services();
}

void policy_update(struct vm_policy *p)
{
    p->may_call = p->role == VM_ROLE_SERVICE;
    for (size_t i = 0; i < call_table_len && !p->may_call; i++) {
        uint32_t perm = call_table[i].perm;

        if (perm && (p->flags & perm) == perm)
            p->may_call = true;
    }
}

void policy_init(struct vm_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->role = VM_ROLE_RESTRICTED;
    p->services = policy_supported_services();
    policy_update(p);
}

const char *policy_role_name(vm_role role)
{
    return role == VM_ROLE_SERVICE ? "service" : "restricted";
}

bool policy_flag_from_name(const char *name, guest_flag *out)
{
    for (int f = 0; f < GUEST_FLAG_COUNT; f++) {
        if (!strcmp(guest_flag_names[f], name)) {
            *out = f;
            return true;
        }
    }
    return false;
}

bool policy_service_from_name(const char *name, service_owner owner, service_id *out)
{
    for (int s = 0; s < SVC_COUNT; s++) {
        if (service_table[s].owner == owner && !strcmp(service_table[s].name, name)) {
            *out = s;
            return true;
        }
    }
    return false;
}

static char *names_of_owner(service_owner owner)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < SVC_COUNT; i++) {
        if (service_table[i].owner == owner && (policy_supported_services() & SVC_BIT(i)))
            g_string_append_printf(s, "%s\"%s\"", s->len ? ", " : "", service_table[i].name);
    }
    if (!s->len)
        g_string_append(s, "none on this architecture");
    return g_string_free(s, FALSE);
}

/* An array of strings, each checked by @check; reports at the element. */
static bool read_name_list(const toml_value *arr, const char *key, GError **error,
                           bool (*check)(const toml_value *v, const char *key, void *ctx,
                                         GError **error), void *ctx)
{
    if (toml_type_of(arr) != TOML_ARRAY) {
        toml_set_error(error, arr, "%s: expected an array of strings, found a %s", key,
                       toml_type_name(toml_type_of(arr)));
        return false;
    }
    for (size_t i = 0; i < toml_array_len(arr); i++) {
        const toml_value *v = toml_array_get(arr, i);

        if (toml_type_of(v) != TOML_STRING) {
            toml_set_error(error, v, "%s: expected strings, found a %s", key,
                           toml_type_name(toml_type_of(v)));
            return false;
        }
        if (!check(v, key, ctx, error))
            return false;
    }
    return true;
}

static bool check_flag(const toml_value *v, const char *key, void *ctx, GError **error)
{
    struct vm_policy *p = ctx;
    guest_flag f;

    if (toml_string_has_nul(v) || !policy_flag_from_name(toml_string(v), &f)) {
        toml_set_error(error, v, "%s: unknown guest flag \"%s\" (known: \"info\", "
                       "\"console\", \"ucall\")", key, toml_string(v));
        return false;
    }
    p->flags |= GUEST_FLAG(f);
    return true;
}

struct owner_ctx {
    struct vm_policy *p;
    service_owner owner;
};

static bool check_service(const toml_value *v, const char *key, void *ctx, GError **error)
{
    struct owner_ctx *o = ctx;
    service_id s;

    if (toml_string_has_nul(v) || !policy_service_from_name(toml_string(v), o->owner, &s) ||
        !(policy_supported_services() & SVC_BIT(s))) {
        g_autofree char *known = names_of_owner(o->owner);

        toml_set_error(error, v, "%s: \"%s\" is not a %s service on %s (known: %s)", key,
                       toml_string(v), service_owner_names[o->owner], arch_name, known);
        return false;
    }
    o->p->services |= SVC_BIT(s);
    return true;
}

static bool read_services(struct vm_policy *p, const toml_value *root, GError **error)
{
    const toml_value *t;

    if (!toml_get_table(root, "policy.services", &t, error))
        return false;
    for (size_t i = 0; t && i < toml_table_size(t); i++) {
        const char *owner_name = toml_table_key(t, i);
        struct owner_ctx o = { p, 0 };
        g_autofree char *key = g_strdup_printf("policy.services.%s", owner_name);

        while (o.owner < SVC_OWNER_COUNT && strcmp(service_owner_names[o.owner], owner_name))
            o.owner++;
        if (o.owner == SVC_OWNER_COUNT) {
            toml_set_error(error, toml_table_value(t, i), "unknown key \"%s\" in "
                           "[policy.services] (known: \"standard\", \"standard-hyp\", "
                           "\"vendor-hyp\")", owner_name);
            return false;
        }
        /* Listing an owner replaces its default (everything) with the list. */
        for (int s = 0; s < SVC_COUNT; s++)
            if (service_table[s].owner == o.owner)
                p->services &= ~SVC_BIT(s);
        if (!read_name_list(toml_table_value(t, i), key, error, check_service, &o))
            return false;
    }
    return true;
}

bool policy_from_toml(struct vm_policy *p, const toml_value *root, GError **error)
{
    const char *role;
    const toml_value *flags;

    if (!toml_get_string(root, "policy.role", "restricted", &role, error) ||
        !toml_get_array(root, "policy.flags", &flags, error))
        return false;
    if (!strcmp(role, "service")) {
        p->role = VM_ROLE_SERVICE;
    } else if (!strcmp(role, "restricted")) {
        p->role = VM_ROLE_RESTRICTED;
    } else {
        toml_set_error(error, toml_lookup(root, "policy.role"),
                       "policy.role: \"%s\" is not a role (\"service\" or \"restricted\")",
                       role);
        return false;
    }
    if (flags && !read_name_list(flags, "policy.flags", error, check_flag, p))
        return false;
    if (!read_services(p, root, error))
        return false;
    policy_update(p);
    return true;
}
