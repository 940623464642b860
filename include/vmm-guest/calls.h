/*
 * Calls a guest can make to vmm: one set of function IDs for every conduit
 * (x86_64 vmcall/vmmcall, aarch64 hvc/smc under the SMC Calling
 * Convention, and the ucall doorbell). Constants only: shared with the
 * freestanding firmware. The calls themselves are listed in call-list.h;
 * docs/abi.md describes each one.
 *
 * IDs follow SMCCC: fast call, SMC64, owner 6 (vendor-specific hypervisor
 * service). vmm's own functions start at 0x1000, clear of KVM's vendor
 * functions (0, 1 and pKVM's low numbers) and of the generic queries at
 * 0xff00-0xffff, which use SMC32 IDs as the SMCCC defines them.
 *
 * Conduits:
 *   x86_64:  rax = ID; arguments in rdi, rsi, rdx, r10; results in rax (and
 *            rdi, rsi, rdx for calls with several results). A refused call
 *            returns -EINVAL (-22) in rax; a VM allowed no call at all gets
 *            #UD, and a permitted VM calling outside ring 0 gets #GP(0),
 *            both at the vmcall instruction.
 *   aarch64: x0 = ID; arguments in x1-x4; results in x0-x3. A refused call
 *            returns SMCCC_RET_NOT_SUPPORTED (-1) in x0. hvc #0 and smc #0
 *            behave the same.
 *   ucall:   see struct vmm_ucall below.
 */
#ifndef VMM_GUEST_CALLS_H
#define VMM_GUEST_CALLS_H

#include "call-list.h"

/* vmm's UUID as the four 32-bit words of the Call UID answer. */
#define VMM_UUID_W0 0x6d6d7600U
#define VMM_UUID_W1 0x4a1e9b52U
#define VMM_UUID_W2 0x8c3f1d27U
#define VMM_UUID_W3 0x5ae0c6b1U
#define VMM_ABI_MAJOR 1
#define VMM_ABI_MINOR 0

/* vmm's own function range (the ucall commands and any later call fall in
 * it; KVM forwards all of it to vmm). */
#define VMM_CALL_BASE        0xc6001000U
#define VMM_CALL_LAST        0xc60010ffU

#ifndef __ASSEMBLER__
/* VMM_CALL_VERSION and the rest: call-list.h says what each one is. Every
 * ID is above INT_MAX, so each constant is an unsigned int, as a U literal
 * would be (GNU C). */
enum vmm_call_id {
#define VMM_CALL_ID(c, id, ...) VMM_CALL_##c = id,
    VMM_CALL_LIST(VMM_CALL_ID)
#undef VMM_CALL_ID
};
#endif

/* Return codes in ret0 (aarch64 values; x86_64 turns refusals into -EINVAL). */
#define VMM_RET_SUCCESS        0
#define VMM_RET_NOT_SUPPORTED  (-1)
#define VMM_RET_INVALID        (-3)
#define VMM_X86_RET_EINVAL     (-22)

/* Some SMCCC IDs KVM answers itself, for tests and benchmarks. */
#define SMCCC_VERSION_ID       0x80000000U
#define SMCCC_TRNG_VERSION_ID  0x84000050U

/*
 * ucall: vmm reserves one struct vmm_ucall per vCPU in guest RAM when the
 * VM is created, each holding its own guest-physical address in `self`.
 * A guest fills its vCPU's structure and rings the doorbell: x86_64 a
 * 32-bit `out` of the structure's page number (address / 4096) to
 * VMM_X86_UCALL_PORT; aarch64 a 64-bit store of its address to
 * VMM_ARM_UCALL_DOORBELL. `cmd` may be any function ID (the ucall
 * commands below, or any other call, with `arg` as its first argument);
 * the answer comes back in `ret` with aarch64's codes (-1 not supported,
 * -3 invalid) by the time the doorbell write completes. Where
 * the area is: x86_64 r8 at entry holds its address; aarch64 the device
 * tree node "vmm,ucall" has `reg` = the doorbell and `vmm,ucall-area` =
 * <address size>. Structure i is at area + i * VMM_UCALL_STRIDE.
 * vmm refuses (and counts) a doorbell value outside guest RAM, not
 * VMM_UCALL_STRIDE aligned, whose `self` differs, or whose text runs off
 * its buffer.
 */
#define VMM_X86_UCALL_PORT     0xe8
#define VMM_ARM_UCALL_DOORBELL 0x090e0000ULL
#define VMM_ARM_UCALL_SIZE     0x1000
#define VMM_UCALL_STRIDE       0x1000
#define VMM_UCALL_TEXT_MAX     3968

#ifndef __ASSEMBLER__
struct vmm_ucall {
    unsigned long long self;   /* written by vmm: this structure's GPA */
    unsigned int cmd;          /* VMM_CALL_UCALL_* or any function ID */
    unsigned int line;         /* abort: source line */
    unsigned long long arg;    /* sync: stage; done: exit status */
    unsigned int file_len;     /* abort: bytes of text[] that are the file name */
    unsigned int text_len;     /* bytes used in text[] (file name, then message) */
    long long ret[4];          /* written by vmm: the call's results, as on aarch64 */
    unsigned long long reserved[8];
    char text[VMM_UCALL_TEXT_MAX];
};
#endif

#endif
