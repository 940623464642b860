/*
 * [vm] cpu-features on x86_64: CPUID feature bits switched on or off
 * relative to what KVM supports (KVM_GET_SUPPORTED_CPUID), by QEMU's
 * names, so that kvm-unit-tests' `-cpu max,+f,-f` lines mean the same on
 * vmm. Only features that are one bit with no other bit depending on them
 * are listed: switching those is faithful without a CPU model.
 */
#include <linux/kvm.h>
#include <string.h>

#include "vmm/arch.h"
#include "cpu_features.h"

const struct x86_cpu_feature x86_cpu_features[] = {
    { "pcid",         0x1,        0, CPUID_ECX, 17, 0 },
    { "x2apic",       0x1,        0, CPUID_ECX, 21, 0 },
    { "tsc-deadline", 0x1,        0, CPUID_ECX, 24, KVM_CAP_TSC_DEADLINE_TIMER },
    { "fsgsbase",     0x7,        0, CPUID_EBX, 0,  0 },
    { "smep",         0x7,        0, CPUID_EBX, 7,  0 },
    { "invpcid",      0x7,        0, CPUID_EBX, 10, 0 },
    { "smap",         0x7,        0, CPUID_EBX, 20, 0 },
    { "umip",         0x7,        0, CPUID_ECX, 2,  0 },
    { "pku",          0x7,        0, CPUID_ECX, 3,  0 },
    { "la57",         0x7,        0, CPUID_ECX, 16, 0 },
    { "rdpid",        0x7,        0, CPUID_ECX, 22, 0 },
    { "rdtscp",       0x80000001, 0, CPUID_EDX, 27, 0 },
};
const unsigned x86_cpu_features_len = G_N_ELEMENTS(x86_cpu_features);
G_STATIC_ASSERT(G_N_ELEMENTS(x86_cpu_features) <= 64);

/* Leaves whose index selects a subleaf (KVM_CPUID_FLAG_SIGNIFCANT_INDEX). */
uint32_t *x86_cpuid_reg(struct kvm_cpuid2 *cpuid, const struct x86_cpu_feature *f)
{
    for (unsigned i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

        if (e->function != f->function ||
            ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != f->index))
            continue;
        switch (f->reg) {
        case CPUID_EAX: return &e->eax;
        case CPUID_EBX: return &e->ebx;
        case CPUID_ECX: return &e->ecx;
        case CPUID_EDX: return &e->edx;
        }
    }
    return NULL;
}

void x86_cpu_features_apply(struct kvm_cpuid2 *cpuid, const struct cpu_features *f)
{
    for (unsigned i = 0; i < x86_cpu_features_len; i++) {
        uint32_t *r = x86_cpuid_reg(cpuid, &x86_cpu_features[i]);

        if (!r)
            continue;
        if (f->on & (1ULL << i))
            *r |= 1U << x86_cpu_features[i].bit;
        if (f->off & (1ULL << i))
            *r &= ~(1U << x86_cpu_features[i].bit);
    }
}

const struct x86_cpu_feature *x86_cpu_features_missing(struct kvm_cpuid2 *supported,
                                                       const struct cpu_features *f,
                                                       bool (*has_cap)(long cap, void *data),
                                                       void *data)
{
    for (unsigned i = 0; i < x86_cpu_features_len; i++) {
        const struct x86_cpu_feature *x = &x86_cpu_features[i];
        uint32_t *r;

        if (!(f->on & (1ULL << i)))
            continue;
        if (x->cap) {
            if (!has_cap(x->cap, data))
                return x;
            continue;
        }
        r = x86_cpuid_reg(supported, x);
        if (!r || !(*r & (1U << x->bit)))
            return x;
    }
    return NULL;
}

static char *known_names(void)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < x86_cpu_features_len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", x86_cpu_features[i].name);
    return g_string_free(s, FALSE);
}

bool arch_cpu_features_parse(const char *text, struct cpu_features *f, char **problem)
{
    g_auto(GStrv) items = g_strsplit(text, ",", -1);

    *f = (struct cpu_features){ 0 };
    if (!*text)
        return true;
    for (char **it = items; *it; it++) {
        const char *name = *it + 1;
        unsigned i;

        if (**it != '+' && **it != '-') {
            *problem = g_strdup_printf("\"%s\" is not +NAME or -NAME", *it);
            return false;
        }
        for (i = 0; i < x86_cpu_features_len; i++)
            if (!strcmp(name, x86_cpu_features[i].name))
                break;
        if (i == x86_cpu_features_len) {
            g_autofree char *known = known_names();

            *problem = g_strdup_printf("\"%s\" is not a CPU feature vmm can switch on "
                                       "x86_64 (known: %s)", name, known);
            return false;
        }
        if ((f->on | f->off) & (1ULL << i)) {
            *problem = g_strdup_printf("%s is named twice", name);
            return false;
        }
        if (**it == '+')
            f->on |= 1ULL << i;
        else
            f->off |= 1ULL << i;
    }
    return true;
}
