/*
 * What each architecture provides. src/arch/<arch>/ implements the same
 * names; meson compiles one of them, so generic code has no #ifdef.
 */
#ifndef VMM_ARCH_H
#define VMM_ARCH_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm_irq_routing_entry;

#include "arch-types.h" /* struct arch_vm, struct arch_vcpu: src/arch/<arch>/ */

struct vm;
struct vcpu;
struct vm_policy;

extern const char arch_name[];      /* "x86_64", "aarch64" */
uint16_t arch_elf_machine(void);    /* EM_X86_64, EM_AARCH64 */
uint64_t arch_ram_base(void);
/* The in-kernel KVM services (SVC_BIT() of enum service_id) a policy can
 * govern on this architecture. */
uint64_t arch_kvm_services(void);

/* The guest-physical window [*lo, *hi) a firmware image may occupy, given
 * the VM's shape: what vmm itself puts in RAM (page tables, stacks, the
 * device tree) lies outside it. Pure, so config checks can use it. */
void arch_load_window(uint64_t ram_size, unsigned nr_vcpus, uint64_t *lo, uint64_t *hi);

/* After KVM_CREATE_VM and RAM, before vCPUs: interrupt controller set-up
 * that must precede vCPUs, and the architecture's devices. */
bool arch_vm_init(struct vm *vm, GError **error);
/* After KVM_CREATE_VCPU and the kvm_run mapping. */
bool arch_vcpu_init(struct vcpu *vcpu, GError **error);
/* After every vCPU exists (GIC initialisation, device tree). */
bool arch_vm_finalize(struct vm *vm, GError **error);
/* After arch_vm_finalize() on a Linux boot (the in-kernel irqchip is
 * there): the routes KVM set up itself for @vm (x86_64: IOAPIC and PIC
 * pins of GSIs 0-23; aarch64: one per vGIC SPI), which every
 * KVM_SET_GSI_ROUTING must repeat (vmm/irq_routes.h); @n of them, to
 * g_free. NULL (with @error) when they cannot be known. */
struct kvm_irq_routing_entry *arch_irq_default_routes(struct vm *vm, unsigned *n,
                                                      GError **error);
/* Registers for a firmware entered at @entry (every vCPU is told its index). */
bool arch_vcpu_boot_firmware(struct vcpu *vcpu, uint64_t entry, GError **error);
/* Before the VM first runs, with its policy @policy fixed (the calls
 * layer's start hook): hand KVM what it enforces itself (aarch64: the
 * firmware service bitmaps, the SMCCC filter). Says plainly what this
 * host cannot do. */
bool arch_vm_apply_policy(struct vm *vm, const struct vm_policy *policy, GError **error);
/* [vm] cpu-features (struct cpu_features: arch-types.h): "+NAME,-NAME,..."
 * against this architecture's table of features vmm can switch (x86_64:
 * CPUID bits by QEMU's names); "" switches none. Pure, for config checks:
 * false with *@problem (to g_free) saying what is wrong. */
bool arch_cpu_features_parse(const char *text, struct cpu_features *f, char **problem);
/* After vm_create(), before the VM first runs: the vCPUs get @f's
 * switches; a feature turned on that KVM cannot give is an error. */
bool arch_vm_cpu_features(struct vm *vm, const struct cpu_features *f, GError **error);
/* @vcpu wakes from S3 (acpi_pm1.c): the state a firmware's resume path
 * leaves (x86_64: real mode at the FACS's waking vector). An error when
 * the guest left no usable vector, or the architecture has no S3. */
bool arch_vcpu_s3_resume(struct vcpu *vcpu, GError **error);
/* Exits only this architecture produces; false when @vcpu's exit is not one. */
bool arch_handle_exit(struct vcpu *vcpu);
/* A register summary for crash reports, one "name=value" group per line. */
void arch_vcpu_dump(struct vcpu *vcpu, GString *out);
/* The guest's program counter on @vcpu (on its own thread, outside
 * KVM_RUN): 0, or -errno. ARCH_PC_NAME names the register for users. */
int arch_vcpu_pc(struct vcpu *vcpu, uint64_t *pc);
extern const char ARCH_PC_NAME[];
void arch_vm_destroy(struct vm *vm);

/* Linux boot (src/arch/<arch>/linux.c). */
struct linux_image;
/* Checks that @li's kernel is this architecture's format and that it and
 * the initrd fit in the layout of @ram_size and @nr_vcpus (vmm/layout.h);
 * pure, so config checks can use it. */
bool arch_linux_check(const struct linux_image *li, uint64_t ram_size, unsigned nr_vcpus,
                      GError **error);
/* After arch_vm_init, before vCPUs exist, for VMs created with VM_LINUX:
 * interrupt controllers and devices Linux needs beyond the firmware machine. */
bool arch_linux_vm_init(struct vm *vm, GError **error);
/* After the VM is built: kernel, initrd, command line and platform tables
 * in RAM, and the boot vCPU's registers. */
bool arch_linux_load(struct vm *vm, const struct linux_image *li, GError **error);
/* The command line when none is given. */
const char *arch_linux_default_cmdline(void);

#endif
