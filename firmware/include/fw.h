/*
 * fw.h: the runtime API of vmm's freestanding guest firmware.
 *
 * Each image defines fw_main(), which the runtime calls once on every vCPU.
 * When fw_main() has returned on every vCPU, vCPU 0 ends the VM with status
 * fw_exit_status. Images are built for x86_64 and aarch64 from the same
 * source, so nothing here is architecture-specific; firmware/README.md
 * describes what each architecture does underneath.
 */
#ifndef FW_H
#define FW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Statuses the runtime itself ends the VM with: away from the small values
 * images use for their own results, and below 120, from where vmm keeps
 * statuses for itself (docs/abi.md). */
#define FW_EXIT_RESET_FAILED  117   /* fw_reset(): the machine did not reset */
#define FW_EXIT_RUNTIME_ERROR 118   /* fw_panic(): the runtime or image gave up */

/* ---- supplied by the image ---- */

/* Runs on every vCPU: concurrently on x86_64; on aarch64 vCPU 0 enters
 * first and starts the others with PSCI CPU_ON just before its own call. */
void fw_main(unsigned cpu);

/* Status vCPU 0 ends the VM with once fw_main() returned everywhere. */
extern int fw_exit_status;

/* ---- console (16550 on x86_64, PL011 on aarch64) ---- */

void fw_putc(char c);
/* Writes s as is: unlike stdio's puts, no newline is added. */
void fw_puts(const char *s);
/* The next received byte, or -1 when none waits: a poll of the UART's
 * status register (16550 LSR.DR, PL011 FR.RXFE), no interrupt involved. */
int fw_getc(void);
/*
 * printf subset: %d %i %u %x %X %o %c %s %p %%, length modifiers hh h l ll
 * z t j, flags '-', '0' and '#', a field width (digits or '*'), a precision for
 * %s. The output of one call is never interleaved with another vCPU's.
 * Returns the number of characters written.
 */
int fw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fw_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- ending the VM ---- */

/* vmm's exact exit register: the VM ends with status `status`. */
noreturn void fw_exit(unsigned status);
/* QEMU isa-debug-exit style: the VM ends with status (v << 1) | 1. */
noreturn void fw_debug_exit(unsigned v);
/* aarch64: PSCI SYSTEM_OFF. x86_64: exit status 0 (no ACPI here). */
noreturn void fw_poweroff(void);
/* aarch64: PSCI SYSTEM_RESET. x86_64: 0xfe to port 0x64 (i8042 reset line).
 * Either way, if it comes back: FW_EXIT_RESET_FAILED. */
noreturn void fw_reset(void);
/* Prints "fw panic on vCPU <n>: <message>" and exits FW_EXIT_RUNTIME_ERROR. */
noreturn void fw_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- machine ---- */

unsigned fw_cpu_id(void);
unsigned fw_nr_cpus(void);
const char *fw_arch_name(void);            /* "x86_64" or "aarch64" */
uint64_t fw_ram_size(void);                /* bytes of guest RAM */
/* The flattened device tree vmm passed (aarch64), or NULL (x86_64). */
const void *fw_dtb(void);

/* ---- deliberate faults (for testing vmm's reports) ---- */

/* Executes an undefined instruction (x86_64 ud2, aarch64 udf #0). */
void fw_undefined_instruction(void);
/* Prints what it is about to do, then takes a fault the guest cannot
 * handle: x86_64 loads a zero-limit IDT and executes int3 (triple fault);
 * aarch64 branches to 0x10000000, where nothing is (instruction abort). */
noreturn void fw_fatal_fault(void);

/* ---- SMP ---- */

/* Ticket lock: vCPUs get it in the order they asked. */
typedef struct {
	uint32_t next;
	uint32_t owner;
} fw_spinlock_t;
#define FW_SPINLOCK_INIT { 0, 0 }

void fw_spin_lock(fw_spinlock_t *lock);
void fw_spin_unlock(fw_spinlock_t *lock);
/* Hint for busy-wait loops (x86_64 pause, aarch64 yield). */
void fw_cpu_relax(void);
/* Stops this vCPU for good with interrupts masked. */
noreturn void fw_halt(void);

/* ---- device tree (a small freestanding FDT reader) ---- */

/*
 * Walks the structure block in order. Depth 0 is the root node, whose name
 * is "". A property is reported with the depth of the node holding it.
 * Any callback may be NULL. Returns 0, or -1 if the blob is malformed.
 */
struct fw_fdt_visitor {
	void (*begin_node)(void *ctx, unsigned depth, const char *name);
	void (*end_node)(void *ctx, unsigned depth);
	void (*prop)(void *ctx, unsigned depth, const char *name,
		     const void *value, uint32_t len);
};
int fw_fdt_walk(const void *fdt, const struct fw_fdt_visitor *v, void *ctx);
/* Size the header claims, or 0 if fdt does not start with an FDT header. */
uint32_t fw_fdt_size(const void *fdt);
/* Big-endian cells as the FDT stores them; p need only be byte-aligned. */
uint32_t fw_be32(const void *p);
uint64_t fw_fdt_cells(const void *p, unsigned ncells);   /* 1 or 2 cells */

/* ---- calls to vmm (include/vmm-guest/calls.h, docs/abi.md) ---- */

/* The architecture's hypercall (x86_64 vmcall or vmmcall, whichever the
 * CPU's vendor uses; aarch64 hvc #0). Returns the first result; all four
 * go to out[] when it is not NULL. */
int64_t fw_vmm_call(uint32_t id, uint64_t a1, uint64_t a2, uint64_t a3,
		    uint64_t a4, int64_t out[4]);
/* aarch64: the same through smc #0. x86_64: fw_vmm_call(). */
int64_t fw_vmm_call_smc(uint32_t id, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4, int64_t out[4]);

/* A call that may fault. Exceptions are caught on x86_64 only (the
 * firmware installs an IDT for this); user_mode runs the call at ring 3. */
struct fw_probe {
	bool faulted;
	unsigned vector;
	uint64_t error_code;
	bool at_call;           /* the fault's RIP is the call instruction */
	int64_t ret;            /* the first result when it did not fault */
};
/* 0, or -1 when this architecture cannot probe that way. */
int fw_probe_call(uint32_t id, uint64_t a1, bool user_mode, struct fw_probe *p);

/* ucall: this vCPU's structure, filled and handed over through the
 * doorbell. Each returns the call's first result (-1 when refused). */
int64_t fw_ucall(uint32_t cmd, uint64_t arg, const char *file, unsigned line,
		 const char *text, unsigned text_len);
int64_t fw_ucall_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t fw_ucall_sync(uint64_t stage);
/* Both end the VM when vmm accepts them; if not, they return -1. */
int64_t fw_ucall_done(unsigned status);
int64_t fw_ucall_abort(const char *file, unsigned line, const char *msg);
#define FW_UCALL_ASSERT(cond) \
	do { if (!(cond)) fw_ucall_abort(__FILE__, __LINE__, #cond); } while (0)
/* Rings the doorbell with any value, for tests of vmm's checks. */
void fw_ucall_ring_raw(uint64_t gpa);
/* Rings it with a write narrower than the doorbell's (vmm must refuse). */
void fw_ucall_ring_narrow(uint64_t gpa);
/* This vCPU's structure's guest-physical address. */
uint64_t fw_ucall_gpa(void);

/* A free-running counter for benchmarks: x86_64 TSC, aarch64 CNTVCT_EL0.
 * Only ratios of its readings mean anything across machines. */
uint64_t fw_counter(void);
/* A round trip to the hypervisor that KVM answers in the kernel: x86_64
 * cpuid, aarch64 hvc SMCCC_VERSION. */
void fw_kernel_roundtrip(void);
/* The cheapest exit vmm answers in userspace: one read of the console
 * UART's status register (x86_64: port I/O of the 16550's LSR; aarch64:
 * MMIO of the PL011's FR). The floor any userspace-dispatched call pays. */
void fw_userspace_roundtrip(void);

/* ---- guarded accesses (for guests that poke vmm at random: hostile) ---- */

/*
 * Makes this vCPU catch the faults of the fw_try_* calls below: a faulting
 * access or call is abandoned and the call returns true (x86_64 through an
 * IDT, aarch64 through VBAR_EL1). A fault anywhere else ends the VM as
 * before (x86_64: fw_panic; aarch64: vmm's default vectors). Call once on
 * each vCPU that uses them. False when this vCPU cannot (index >= 64).
 */
bool fw_guard_init(void);
/* One load or store of width 1, 2, 4 or 8 bytes at addr, by a plain
 * register-indirect instruction the hypervisor can decode. */
bool fw_try_read(uint64_t addr, unsigned width, uint64_t *val);
bool fw_try_write(uint64_t addr, unsigned width, uint64_t val);
/*
 * A hypercall with every argument register chosen: regs[0] is all of
 * x0 / rax, regs[1..7] x1-x7 (x86_64: rdi, rsi, rdx, r10, r8, r9; regs[7]
 * unused). kind: FW_CALL_HVC (x86_64: vmcall or vmmcall), FW_CALL_SMC,
 * FW_CALL_HVC_IMM (hvc #0xffff), FW_CALL_SMC_IMM (smc #0xffff); x86_64
 * makes all of them its own call instruction. out[0..3] as fw_vmm_call().
 */
#define FW_CALL_HVC     0
#define FW_CALL_SMC     1
#define FW_CALL_HVC_IMM 2
#define FW_CALL_SMC_IMM 3
bool fw_try_call(unsigned kind, const uint64_t regs[8], int64_t out[4]);
/* x86_64 port I/O of width 1, 2 or 4, and rep ins/outs of count units
 * from/to buf: 1 if it faulted, 0 if not, -1 where there is no port I/O
 * (aarch64). */
int fw_try_port_in(uint16_t port, unsigned width, uint32_t *val);
int fw_try_port_out(uint16_t port, unsigned width, uint32_t val);
int fw_try_port_rep(bool out, uint16_t port, unsigned width, void *buf, uint32_t count);
/* Faults this vCPU's guard caught, and the last one's kind (x86_64: the
 * vector; aarch64: ESR_EL1's exception class). */
uint64_t fw_guard_faults(void);
unsigned fw_guard_last_fault(void);
/*
 * The end of the physical address space an access can reach the
 * hypervisor through (mapped, not RAM): x86_64 what vmm's page tables
 * map; aarch64 maps the rest of its 39-bit space above RAM as Device
 * memory first (vCPU 0, once, before other vCPUs use it). Beyond it,
 * accesses fault in the guest.
 */
uint64_t fw_guard_map_io_space(void);
/* Puts the console UART back into the state fw_putc() needs (x86_64: DLAB
 * and loopback off), after random writes to its registers. */
void fw_console_reset(void);

/* ---- formatting into a buffer ---- */
int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* ---- the C library functions the compiler may call on its own ---- */

void *memset(void *s, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
