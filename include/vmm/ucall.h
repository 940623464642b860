/*
 * The ucall channel (include/vmm-guest/calls.h has the guest's side).
 * Generic code here; each architecture registers the doorbell, places the
 * area and tells the guest where it is.
 */
#ifndef VMM_UCALL_H
#define VMM_UCALL_H

#include <stdint.h>

struct vm;
struct vcpu;

/* Bytes of guest RAM the per-vCPU structures take. */
uint64_t ucall_area_size(unsigned nr_vcpus);
/* Places the structures at @gpa (in RAM) and fills in their `self`. */
void ucall_area_init(struct vm *vm, uint64_t gpa);
/* Where they are, for the guest's boot registers or device tree. */
uint64_t ucall_area_gpa(const struct vm *vm);
/* A doorbell write refused before it named a call: counted and logged. */
void ucall_reject(struct vcpu *vcpu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The doorbell rang with the address @gpa: check, copy, dispatch, answer. */
void ucall_ring(struct vcpu *vcpu, uint64_t gpa);

#endif
