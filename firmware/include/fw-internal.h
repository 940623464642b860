/*
 * Contract between the generic runtime (firmware/lib) and each
 * architecture (firmware/arch/<arch>); images do not include this.
 * Both architectures define every function declared here, with the same
 * names, so firmware/lib needs no #ifdef.
 */
#ifndef FW_INTERNAL_H
#define FW_INTERNAL_H

#include "fw.h"

/* ---- provided by arch/<arch> ---- */

/* One character to the UART, no locking; usable from the first instruction
 * of C (on aarch64 also with the MMU off). */
void fw_arch_putc(char c);
/* The UART's next received byte, or -1 when its receive FIFO is empty. */
int fw_arch_getc(void);
/* This vCPU is done with fw_main() and not vCPU 0: take it out of the way
 * (x86_64 cli;hlt, aarch64 PSCI CPU_OFF). */
noreturn void fw_arch_park(void);

/* The hypercall instruction; smc selects aarch64's smc #0. */
int64_t fw_arch_vmm_call(uint32_t id, const uint64_t a[4], int64_t out[4], bool smc);
int fw_arch_probe_call(uint32_t id, uint64_t a1, bool user_mode, struct fw_probe *p);
/* Where vmm put this vCPU's ucall structure, and the doorbell. */
uint64_t fw_arch_ucall_gpa(unsigned cpu);
void fw_arch_ucall_ring(uint64_t gpa);
void fw_arch_ucall_ring_narrow(uint64_t gpa);

/* ---- provided by lib/ for arch/<arch> ---- */

/* The arch entry code calls this on every vCPU once the vCPU can run C with
 * working atomics; it calls fw_main() and does the end-of-run bookkeeping. */
noreturn void fw_runtime_run(unsigned cpu);
/* Called once, on vCPU 0, from the point atomic instructions behave (on
 * aarch64 that is after the MMU is on; before, memory is Device memory and
 * exclusives are not guaranteed). Until then the console takes no lock,
 * which is safe because only vCPU 0 runs. */
void fw_runtime_atomics_ready(void);

#endif
