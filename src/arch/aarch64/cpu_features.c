/* [vm] cpu-features on aarch64: no feature can be switched yet (the PMU
 * and SVE follow what KVM offers), so any name is refused. */
#include "vmm/arch.h"
#include "vmm/error.h"

bool arch_cpu_features_parse(const char *text, struct cpu_features *f, char **problem)
{
    *f = (struct cpu_features){ 0 };
    if (!*text)
        return true;
    *problem = g_strdup_printf("\"%s\": no CPU feature can be switched on aarch64", text);
    return false;
}

bool arch_vm_cpu_features(struct vm *vm, const struct cpu_features *f, GError **error)
{
    (void)vm;
    if (!f->on && !f->off)
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "no CPU feature can be switched on aarch64");
    return false;
}
