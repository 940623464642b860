/*
 * Fakes for what the fuzzers do not exercise and what would need KVM or a
 * running VM (fake_vm.c, fake_kvm.c). They record what the code under test
 * asked for, so the fuzzers can check it; they never hide a failure.
 */
#ifndef VMM_FUZZ_FAKE_H
#define VMM_FUZZ_FAKE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/vm.h"

/* fake_vm.c: vmm_log, vm_stop, vm_guest_exit, vcpu_crash. */
struct fake_vm_record {
    unsigned log_lines;      /* vmm_log() calls since the last reset */
    unsigned stops;          /* vm_stop() calls, the ignored ones included */
};
extern struct fake_vm_record fake_vm;
void fake_vm_reset(void);  /* and fake_console's counts */
/* A VM as vm_create() leaves it, minus KVM, RAM and vCPUs: locks, an empty
 * I/O registry, no stop. */
void fake_vm_init(struct vm *vm, const char *name);
void fake_vm_clear(struct vm *vm);

/* fake_console.c: the console functions devices and calls use. Output
 * is read (so ASan checks the caller's buffer) and counted, not written:
 * console.c has its own tests, and its writer thread has no place here. */
struct fake_console_record {
    uint64_t bytes;
    unsigned writes;
};
extern struct fake_console_record fake_console;
struct console *fake_console_new(void);
void fake_console_free(struct console *c);

/* fake_kvm.c: the ioctls, on one fake vCPU and one fake VM. */
enum fake_ioctl {
    FAKE_GET_REGS, FAKE_SET_REGS, FAKE_RUN, FAKE_GET_EVENTS, FAKE_SET_EVENTS,
    FAKE_IRQ_LINE, FAKE_OTHER, FAKE_IOCTL_COUNT
};
#define FAKE_IRQS 64
struct fake_kvm_state {
    unsigned fail;                    /* bit per enum fake_ioctl: fails with -EIO */
    unsigned calls[FAKE_IOCTL_COUNT];
    long caps;                        /* KVM_CHECK_EXTENSION's answer for any cap */
    struct kvm_run *run;              /* the fake vCPU's run structure */
#if defined(__x86_64__)
    struct kvm_regs regs;
    struct kvm_vcpu_events events;
#endif
    int irq_level[FAKE_IRQS];         /* last KVM_IRQ_LINE level, -1 none */
};
extern struct fake_kvm_state fake_kvm;
void fake_kvm_reset(void);

#endif
