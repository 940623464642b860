/*
 * Guarded accesses for hostile guests (fw_guard_init() in guard.c).
 *
 * Each fw_x86_try_* routine stores the address of its own recovery label
 * in this vCPU's slot of fw_x86_guard_fixup (slot pointer in r11) before
 * the access and clears it after. An exception taken while the slot is
 * set resumes at that label (guard_common below rewrites the saved RIP),
 * where the routine clears the slot and returns 1. The handler saves and
 * restores every register it uses, so r11 and the routine's other
 * registers are intact at the label. The vCPU index comes from GS:0
 * (entry.S), which nothing here changes.
 */
#define GUARD_MAX_CPUS 64

	.text
	.code64

/* r11 = &fw_x86_guard_fixup[cpu]; the slot = the recovery label 8f. */
	.macro guard_enter
	movl	%gs:0, %r11d
	lea	fw_x86_guard_fixup(%rip), %rax
	lea	(%rax,%r11,8), %r11
	lea	8f(%rip), %rax
	mov	%rax, (%r11)
	.endm

/* int fw_x86_try_read(uint64_t addr, unsigned width, uint64_t *val) */
	.globl fw_x86_try_read
	.type fw_x86_try_read, @function
fw_x86_try_read:
	guard_enter
	xor	%ecx, %ecx
	cmp	$1, %esi
	je	1f
	cmp	$2, %esi
	je	2f
	cmp	$4, %esi
	je	4f
	mov	(%rdi), %rcx
	jmp	5f
1:	movzbl	(%rdi), %ecx
	jmp	5f
2:	movzwl	(%rdi), %ecx
	jmp	5f
4:	movl	(%rdi), %ecx
5:	movq	$0, (%r11)
	mov	%rcx, (%rdx)
	xor	%eax, %eax
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	ret
	.size fw_x86_try_read, . - fw_x86_try_read

/* int fw_x86_try_write(uint64_t addr, unsigned width, uint64_t val) */
	.globl fw_x86_try_write
	.type fw_x86_try_write, @function
fw_x86_try_write:
	guard_enter
	cmp	$1, %esi
	je	1f
	cmp	$2, %esi
	je	2f
	cmp	$4, %esi
	je	4f
	mov	%rdx, (%rdi)
	jmp	5f
1:	movb	%dl, (%rdi)
	jmp	5f
2:	movw	%dx, (%rdi)
	jmp	5f
4:	movl	%edx, (%rdi)
5:	movq	$0, (%r11)
	xor	%eax, %eax
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	ret
	.size fw_x86_try_write, . - fw_x86_try_write

/* int fw_x86_try_in(uint16_t port, unsigned width, uint32_t *val) */
	.globl fw_x86_try_in
	.type fw_x86_try_in, @function
fw_x86_try_in:
	mov	%rdx, %r8
	guard_enter
	mov	%edi, %edx
	xor	%eax, %eax
	cmp	$1, %esi
	je	1f
	cmp	$2, %esi
	je	2f
	inl	%dx, %eax
	jmp	5f
1:	inb	%dx, %al
	jmp	5f
2:	inw	%dx, %ax
5:	movq	$0, (%r11)
	movl	%eax, (%r8)
	xor	%eax, %eax
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	ret
	.size fw_x86_try_in, . - fw_x86_try_in

/* int fw_x86_try_out(uint16_t port, unsigned width, uint32_t val) */
	.globl fw_x86_try_out
	.type fw_x86_try_out, @function
fw_x86_try_out:
	mov	%edx, %r8d
	guard_enter
	mov	%edi, %edx
	mov	%r8d, %eax
	cmp	$1, %esi
	je	1f
	cmp	$2, %esi
	je	2f
	outl	%eax, %dx
	jmp	5f
1:	outb	%al, %dx
	jmp	5f
2:	outw	%ax, %dx
5:	movq	$0, (%r11)
	xor	%eax, %eax
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	ret
	.size fw_x86_try_out, . - fw_x86_try_out

/* int fw_x86_try_rep(bool out, uint16_t port, unsigned width, void *buf,
 *                    uint32_t count): rep ins/outs, direction flag clear */
	.globl fw_x86_try_rep
	.type fw_x86_try_rep, @function
fw_x86_try_rep:
	mov	%edi, %r9d		/* out */
	mov	%esi, %r10d		/* port */
	guard_enter
	mov	%rcx, %rsi		/* buf, for outs */
	mov	%rcx, %rdi		/* buf, for ins */
	mov	%r8d, %ecx		/* count */
	mov	%r10d, %eax
	mov	%edx, %r10d		/* width */
	mov	%eax, %edx		/* port */
	test	%r9d, %r9d
	jnz	6f
	cmp	$1, %r10d
	je	1f
	cmp	$2, %r10d
	je	2f
	rep insl
	jmp	5f
1:	rep insb
	jmp	5f
2:	rep insw
	jmp	5f
6:	cmp	$1, %r10d
	je	1f
	cmp	$2, %r10d
	je	2f
	rep outsl
	jmp	5f
1:	rep outsb
	jmp	5f
2:	rep outsw
5:	movq	$0, (%r11)
	xor	%eax, %eax
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	ret
	.size fw_x86_try_rep, . - fw_x86_try_rep

/* int fw_x86_try_vmcall(const uint64_t regs[8], int64_t out[4]) and the
 * same with vmmcall: rax, rdi, rsi, rdx, r10, r8, r9 from regs[0..6]. */
	.macro try_call name, insn
	.globl \name
	.type \name, @function
\name:
	push	%rbx
	mov	%rsi, %rbx
	guard_enter
	mov	32(%rdi), %r10
	mov	40(%rdi), %r8
	mov	48(%rdi), %r9
	mov	24(%rdi), %rdx
	mov	16(%rdi), %rsi
	mov	(%rdi), %rax
	mov	8(%rdi), %rdi
	\insn
	movq	$0, (%r11)
	mov	%rax, (%rbx)
	mov	%rdi, 8(%rbx)
	mov	%rsi, 16(%rbx)
	mov	%rdx, 24(%rbx)
	xor	%eax, %eax
	pop	%rbx
	ret
8:	movq	$0, (%r11)
	mov	$1, %eax
	pop	%rbx
	ret
	.size \name, . - \name
	.endm

	try_call fw_x86_try_vmcall, vmcall
	try_call fw_x86_try_vmmcall, vmmcall

/*
 * Exception entry: every stub pushes an error code (0 where the CPU gives
 * none) and its vector. Stack then: vector, error code, RIP, CS, RFLAGS,
 * RSP, SS.
 */
guard_common:
	push	%rax
	push	%rcx
	/* 0(rsp) rcx, 8 rax, 16 vector, 24 error code, 32 RIP */
	movl	%gs:0, %eax
	cmp	$GUARD_MAX_CPUS, %eax
	jae	9f
	lea	fw_x86_guard_fixup(%rip), %rcx
	mov	(%rcx,%rax,8), %rcx
	test	%rcx, %rcx
	jz	9f
	mov	%rcx, 32(%rsp)
	lea	fw_x86_guard_count(%rip), %rcx
	incq	(%rcx,%rax,8)
	lea	fw_x86_guard_vector(%rip), %rcx
	push	%rdx
	mov	24(%rsp), %rdx
	mov	%rdx, (%rcx,%rax,8)
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq
9:	/* Not inside a guarded access: a bug in the firmware itself. */
	mov	16(%rsp), %rdi
	mov	24(%rsp), %rsi
	mov	32(%rsp), %rdx
	and	$-16, %rsp
	call	fw_x86_guard_unexpected
	ud2

	.macro stub vec, has_error
fw_x86_guard_stub_\vec:
	.if \has_error == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	guard_common
	.endm

	.irp v, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 31
	stub \v, 0
	.endr
	.irp v, 8, 10, 11, 12, 13, 14, 17, 21, 29, 30
	stub \v, 1
	.endr

	.section .rodata
	.balign 8
	.globl fw_x86_guard_stubs
fw_x86_guard_stubs:
	.irp v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.quad fw_x86_guard_stub_\v
	.endr
	.irp v, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	.quad fw_x86_guard_stub_\v
	.endr

	.bss
	.balign 8
	.globl fw_x86_guard_fixup, fw_x86_guard_count, fw_x86_guard_vector
fw_x86_guard_fixup:	.space 8 * GUARD_MAX_CPUS
fw_x86_guard_count:	.space 8 * GUARD_MAX_CPUS
fw_x86_guard_vector:	.space 8 * GUARD_MAX_CPUS

	.section .note.GNU-stack, "", @progbits
