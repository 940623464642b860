/*
 * aarch64 entry. vmm starts vCPU 0 here at EL1h with the MMU off and x0 =
 * the device tree; the others are started later by vCPU 0 through PSCI
 * CPU_ON at fw_arm_secondary_entry with x0 = their index.
 */
#include "arch.h"

	.section .text.entry, "ax", %progbits
	.globl _start
	.type _start, %function
_start:
	msr	daifset, #0xf
	mov	x19, x0

	/* Stores with the MMU off are Device stores: 8 bytes at a time,
	 * aligned (the linker script aligns both ends to 16). */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:
	msr	tpidr_el1, xzr		/* fw_cpu_id() = 0 */
	adrp	x1, fw_arm_stacks
	add	x1, x1, :lo12:fw_arm_stacks
	add	x1, x1, #FW_ARM_STACK_SIZE
	mov	sp, x1

	/* Reads the device tree and builds the page tables, still with the
	 * MMU off. */
	mov	x0, x19
	bl	fw_arm_boot
	bl	fw_arm_mmu_on
	bl	fw_arm_boot_cpu_main	/* does not return */
	b	.
	.size _start, . - _start

	.globl fw_arm_secondary_entry
	.type fw_arm_secondary_entry, %function
fw_arm_secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0
	cmp	x19, #FW_ARM_MAX_CPUS
	b.hs	3f
	msr	tpidr_el1, x19
	adrp	x1, fw_arm_stacks
	add	x1, x1, :lo12:fw_arm_stacks
	add	x2, x19, #1
	add	x1, x1, x2, lsl #FW_ARM_STACK_SHIFT
	mov	sp, x1
	/* Nothing vCPU 0 wrote with its MMU on (caches on) may be read before
	 * ours is on too: only constants and x0 are used up to here. */
	bl	fw_arm_mmu_on
	mov	x0, x19
	bl	fw_arm_secondary_main	/* does not return */
3:	wfi
	b	3b
	.size fw_arm_secondary_entry, . - fw_arm_secondary_entry

/*
 * Turns on the MMU of the calling vCPU with the identity map fw_arm_boot()
 * built. A leaf: uses no stack, clobbers x0-x2.
 */
	.globl fw_arm_mmu_on
	.type fw_arm_mmu_on, %function
fw_arm_mmu_on:
	ldr	x0, =FW_ARM_MAIR
	msr	mair_el1, x0

	/* Output addresses fit in 40 bits; say what the CPU supports, capped
	 * at 48 bits, above which a 4 KiB granule needs FEAT_LPA2. */
	mrs	x1, id_aa64mmfr0_el1
	and	x1, x1, #0xf
	mov	x2, #5
	cmp	x1, x2
	csel	x1, x1, x2, ls
	ldr	x0, =FW_ARM_TCR
	orr	x0, x0, x1, lsl #32
	msr	tcr_el1, x0

	adrp	x0, fw_arm_pgd
	add	x0, x0, :lo12:fw_arm_pgd
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb

	mrs	x0, sctlr_el1
	ldr	x1, =(SCTLR_M | SCTLR_C | SCTLR_I)
	orr	x0, x0, x1
	ldr	x1, =(SCTLR_A | SCTLR_WXN | SCTLR_EE)
	bic	x0, x0, x1
	msr	sctlr_el1, x0
	isb
	ic	iallu
	dsb	nsh
	isb
	ret
	.ltorg
	.size fw_arm_mmu_on, . - fw_arm_mmu_on

/* One stack per vCPU, vCPU n's top at fw_arm_stacks + (n + 1) * size. Not
 * in .bss: nothing needs them zeroed, and zeroing 1 MiB with the MMU off
 * is slow. */
	.section .stacks, "aw", %nobits
	.balign 16
	.globl fw_arm_stacks
fw_arm_stacks:
	.space	FW_ARM_MAX_CPUS * FW_ARM_STACK_SIZE

	.section .note.GNU-stack, "", %progbits
