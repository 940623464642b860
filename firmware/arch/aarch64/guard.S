/*
 * Guarded accesses for hostile guests (fw_guard_init() in guard.c).
 *
 * Each fw_arm_try_* routine stores the address of its own recovery label
 * in this vCPU's slot of fw_arm_guard_fixup before the access and clears
 * it after. A synchronous exception taken while the slot is set returns
 * (eret) to that label, where the routine clears the slot and returns 1.
 * The handler restores every register it uses. Any other exception goes
 * on to vmm's default vector for the same offset (at address 0), which
 * reports it and ends the VM, as without these vectors.
 */
#define GUARD_MAX_CPUS 64

	.text

/* x10 = &fw_arm_guard_fixup[cpu]; the slot = the recovery label 8f. */
	.macro guard_enter
	mrs	x9, tpidr_el1
	adrp	x10, fw_arm_guard_fixup
	add	x10, x10, :lo12:fw_arm_guard_fixup
	add	x10, x10, x9, lsl #3
	adr	x9, 8f
	str	x9, [x10]
	.endm

/* int fw_arm_try_read(uint64_t addr, unsigned width, uint64_t *val) */
	.globl fw_arm_try_read
	.type fw_arm_try_read, %function
fw_arm_try_read:
	guard_enter
	mov	x3, #0
	cmp	w1, #1
	b.eq	1f
	cmp	w1, #2
	b.eq	2f
	cmp	w1, #4
	b.eq	4f
	ldr	x3, [x0]
	b	5f
1:	ldrb	w3, [x0]
	b	5f
2:	ldrh	w3, [x0]
	b	5f
4:	ldr	w3, [x0]
5:	str	xzr, [x10]
	str	x3, [x2]
	mov	w0, #0
	ret
8:	str	xzr, [x10]
	mov	w0, #1
	ret
	.size fw_arm_try_read, . - fw_arm_try_read

/* int fw_arm_try_write(uint64_t addr, unsigned width, uint64_t val) */
	.globl fw_arm_try_write
	.type fw_arm_try_write, %function
fw_arm_try_write:
	guard_enter
	cmp	w1, #1
	b.eq	1f
	cmp	w1, #2
	b.eq	2f
	cmp	w1, #4
	b.eq	4f
	str	x2, [x0]
	b	5f
1:	strb	w2, [x0]
	b	5f
2:	strh	w2, [x0]
	b	5f
4:	str	w2, [x0]
5:	str	xzr, [x10]
	mov	w0, #0
	ret
8:	str	xzr, [x10]
	mov	w0, #1
	ret
	.size fw_arm_try_write, . - fw_arm_try_write

/* int fw_arm_try_call(unsigned kind, const uint64_t regs[8], int64_t out[4]):
 * x0-x7 from regs; kind 0 hvc #0, 1 smc #0, 2 hvc #0xffff, 3 smc #0xffff.
 * The slot pointer and out live in callee-saved registers: SMCCC 1.0 lets
 * the callee clobber x4-x17. */
	.globl fw_arm_try_call
	.type fw_arm_try_call, %function
fw_arm_try_call:
	stp	x19, x20, [sp, #-32]!
	str	x21, [sp, #16]
	mov	x19, x2
	mov	w21, w0
	mov	x8, x1
	guard_enter
	mov	x20, x10
	ldp	x0, x1, [x8]
	ldp	x2, x3, [x8, #16]
	ldp	x4, x5, [x8, #32]
	ldp	x6, x7, [x8, #48]
	cmp	w21, #1
	b.eq	1f
	cmp	w21, #2
	b.eq	2f
	cmp	w21, #3
	b.eq	3f
	hvc	#0
	b	5f
1:	smc	#0
	b	5f
2:	hvc	#0xffff
	b	5f
3:	smc	#0xffff
5:	str	xzr, [x20]
	stp	x0, x1, [x19]
	stp	x2, x3, [x19, #16]
	mov	w0, #0
	ldr	x21, [sp, #16]
	ldp	x19, x20, [sp], #32
	ret
8:	str	xzr, [x20]
	mov	w0, #1
	ldr	x21, [sp, #16]
	ldp	x19, x20, [sp], #32
	ret
	.size fw_arm_try_call, . - fw_arm_try_call

/* The vector table: 16 entries of 0x80 bytes, 2 KiB aligned. Each saves
 * x0-x3 and passes its own offset in x2. */
	.macro vector off
	.balign 0x80
	sub	sp, sp, #32
	stp	x0, x1, [sp]
	stp	x2, x3, [sp, #16]
	mov	x2, #\off
	b	guard_common
	.endm

	.balign 0x800
	.globl fw_arm_guard_vectors
fw_arm_guard_vectors:
	.irp off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380
	vector \off
	.endr
	.irp off, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
	vector \off
	.endr

guard_common:
	/* Only a synchronous exception (offset 0x000, 0x200, ...) from a
	 * guarded access is ours. */
	tst	x2, #0x180
	b.ne	9f
	mrs	x0, tpidr_el1
	cmp	x0, #GUARD_MAX_CPUS
	b.hs	9f
	adrp	x1, fw_arm_guard_fixup
	add	x1, x1, :lo12:fw_arm_guard_fixup
	ldr	x3, [x1, x0, lsl #3]
	cbz	x3, 9f
	msr	elr_el1, x3
	adrp	x1, fw_arm_guard_count
	add	x1, x1, :lo12:fw_arm_guard_count
	ldr	x3, [x1, x0, lsl #3]
	add	x3, x3, #1
	str	x3, [x1, x0, lsl #3]
	mrs	x3, esr_el1
	lsr	x3, x3, #26
	adrp	x1, fw_arm_guard_ec
	add	x1, x1, :lo12:fw_arm_guard_ec
	str	x3, [x1, x0, lsl #3]
	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp]
	add	sp, sp, #32
	eret
9:	/* vmm's vector for this offset (its page is at address 0). x16
	 * and x17 are free: vmm's vector code sets both itself. */
	mov	x16, x2
	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp]
	add	sp, sp, #32
	br	x16

	.bss
	.balign 8
	.globl fw_arm_guard_fixup, fw_arm_guard_count, fw_arm_guard_ec
fw_arm_guard_fixup:	.space 8 * GUARD_MAX_CPUS
fw_arm_guard_count:	.space 8 * GUARD_MAX_CPUS
fw_arm_guard_ec:	.space 8 * GUARD_MAX_CPUS

	.section .note.GNU-stack, "", %progbits
