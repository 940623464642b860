/*
 * A VM's call policy: its role, its guest flags, and the services it may
 * discover. Set from the config (or, before the VM first runs, the control
 * socket), then frozen for the VM's life.
 */
#ifndef VMM_POLICY_H
#define VMM_POLICY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum { VM_ROLE_RESTRICTED, VM_ROLE_SERVICE } vm_role;

/* Guest flags: a call's table entry names the flags a VM must all have. */
typedef enum {
    GUEST_FLAG_INFO,     /* discovery: version, features, UID, revision, whoami */
    GUEST_FLAG_CONSOLE,  /* the console write call */
    GUEST_FLAG_UCALL,    /* the ucall channel (test and diagnostic firmware) */
    GUEST_FLAG_COUNT
} guest_flag;
#define GUEST_FLAG(f) (1U << (f))

/* SMCCC service owners whose services a policy lists. */
typedef enum {
    SVC_OWNER_STANDARD,      /* owner 4, standard secure service: KVM_REG_ARM_STD_BMAP */
    SVC_OWNER_STANDARD_HYP,  /* owner 5: KVM_REG_ARM_STD_HYP_BMAP */
    SVC_OWNER_VENDOR_HYP,    /* owner 6: KVM_REG_ARM_VENDOR_HYP_BMAP and vmm's own */
    SVC_OWNER_COUNT
} service_owner;

/* Every service a policy can enable, whoever implements it. */
typedef enum {
    SVC_TRNG,           /* KVM: Arm TRNG (standard) */
    SVC_PV_TIME,        /* KVM: stolen time (standard hypervisor) */
    SVC_KVM_FEATURES,   /* KVM: vendor hypervisor feature discovery */
    SVC_KVM_PTP,        /* KVM: PTP clock (vendor hypervisor) */
    SVC_VMM_INFO,       /* vmm: discovery and whoami */
    SVC_VMM_CONSOLE,
    SVC_VMM_UCALL,
    SVC_VMM_VM,         /* vmm: VM management (service VMs) */
    SVC_COUNT
} service_id;
#define SVC_BIT(s) (1ULL << (s))

struct service_desc {
    const char *name;     /* as written in [policy.services] */
    service_owner owner;
    int kvm_bit;          /* bit in KVM's firmware bitmap register, -1 for vmm's own */
};
extern const struct service_desc service_table[SVC_COUNT];
extern const char *const service_owner_names[SVC_OWNER_COUNT];
extern const char *const guest_flag_names[GUEST_FLAG_COUNT];

struct vm_policy {
    vm_role role;
    uint32_t flags;          /* GUEST_FLAG() bits */
    uint64_t services;       /* SVC_BIT() bits */
    bool manageable;         /* a service VM may manage this VM (it created it) */
    bool may_call;           /* derived: the role or a flag allows some call */
    bool frozen;             /* the VM has run: no more changes */
};

/* Services this build and architecture offer (arch_services_supported()). */
uint64_t policy_supported_services(void);
/* The default: restricted, no flags, every supported service. */
void policy_init(struct vm_policy *p);
/* Recomputes derived fields; call after changing role or flags. */
void policy_update(struct vm_policy *p);

struct toml_value;
/* Reads [policy] from a config document holding only that section (absent
 * keys keep defaults); the config layer reads it with the schema that
 * reads every config (src/config/config_schema.c). */
bool policy_from_toml(struct vm_policy *p, const struct toml_value *root, GError **error);

/* Names for messages and the control socket. */
const char *policy_role_name(vm_role role);
/* Every role's name, and its value at the same index, in the order
 * messages list them (the config and QMP schemas' allowed values). */
#define POLICY_NR_ROLES 2
extern const char *const policy_role_names[POLICY_NR_ROLES];
extern const int policy_role_values[POLICY_NR_ROLES];
bool policy_flag_from_name(const char *name, guest_flag *out);
bool policy_service_from_name(const char *name, service_owner owner, service_id *out);

#endif
