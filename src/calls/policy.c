#include <string.h>

#include "vmm/arch.h"
#include "vmm/calls.h"
#include "vmm/policy.h"

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

const char *const policy_role_names[POLICY_NR_ROLES] = { "service", "restricted" };
const int policy_role_values[POLICY_NR_ROLES] = { VM_ROLE_SERVICE, VM_ROLE_RESTRICTED };

const char *policy_role_name(vm_role role)
{
    return role == VM_ROLE_SERVICE ? policy_role_names[0] : policy_role_names[1];
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
