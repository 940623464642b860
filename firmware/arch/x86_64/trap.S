/*
 * Catching exceptions on purpose: fw_x86_try() runs a function (at ring 0
 * or ring 3) and comes back with 1 if an exception interrupted it, the
 * trap details in fw_x86_trap. Only vCPU 0 uses it (one set of globals).
 * Ring 3 code returns through int $0x80, a DPL 3 gate.
 */
#define KERNEL_DS	0x10
#define USER_DS		0x1b
#define USER_CS		0x23
#define MSR_GS_BASE	0xc0000101
#define VECTOR_RETURN	0x80

	.text
	.code64

/* int fw_x86_try(void (*fn)(void *), void *arg, void *user_stack_top)
 * user_stack_top NULL: run fn at ring 0. */
	.globl fw_x86_try
	.type fw_x86_try, @function
fw_x86_try:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rdx, %r12		/* rdmsr takes rdx */
	mov	$MSR_GS_BASE, %ecx
	rdmsr
	mov	%eax, gs_base(%rip)
	mov	%edx, gs_base+4(%rip)
	mov	%rsp, try_rsp(%rip)
	mov	%rdi, %rax
	mov	%rsi, %rdi
	test	%r12, %r12
	jnz	1f
	call	*%rax
	jmp	.Ltry_no_fault
1:	/* iretq to ring 3 at the trampoline: SS, RSP, RFLAGS, CS, RIP */
	mov	%rax, %rsi
	pushq	$USER_DS
	pushq	%r12
	pushq	$0x2
	pushq	$USER_CS
	lea	user_trampoline(%rip), %rax
	pushq	%rax
	iretq

.Ltry_no_fault:
	xor	%eax, %eax
	jmp	.Ltry_out

/* Every stub pushes an error code (0 where the CPU gives none) and the
 * vector, then comes here, on the trap stack for a fault from ring 3. */
trap_common:
	pop	%rax
	mov	%rax, fw_x86_trap(%rip)			/* vector */
	pop	%rax
	mov	%rax, fw_x86_trap+8(%rip)		/* error code */
	mov	(%rsp), %rax
	mov	%rax, fw_x86_trap+16(%rip)		/* rip */
	mov	8(%rsp), %rax
	mov	%rax, fw_x86_trap+24(%rip)		/* cs */
	/* Back to fw_x86_try's frame, whatever ring we came from. */
	mov	try_rsp(%rip), %rsp
	mov	$KERNEL_DS, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$MSR_GS_BASE, %ecx
	mov	gs_base(%rip), %eax
	mov	gs_base+4(%rip), %edx
	wrmsr
	cmpq	$VECTOR_RETURN, fw_x86_trap(%rip)
	je	.Ltry_no_fault
	mov	$1, %eax
.Ltry_out:
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
	.size fw_x86_try, . - fw_x86_try

/* Ring 3: fn(arg) with fn in rsi, arg in rdi, then back to ring 0. */
user_trampoline:
	call	*%rsi
	int	$VECTOR_RETURN
	ud2

	.macro stub vec, has_error
	.globl fw_x86_stub_\vec
fw_x86_stub_\vec:
	.if \has_error == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
	.endm

	stub 0, 0
	stub 1, 0
	stub 2, 0
	stub 3, 0
	stub 4, 0
	stub 5, 0
	stub 6, 0
	stub 7, 0
	stub 8, 1
	stub 9, 0
	stub 10, 1
	stub 11, 1
	stub 12, 1
	stub 13, 1
	stub 14, 1
	stub 15, 0
	stub 16, 0
	stub 17, 1
	stub 18, 0
	stub 19, 0
	stub 20, 0
	stub 21, 1
	stub 128, 0

	.globl fw_x86_stubs
	.section .rodata
	.balign 8
fw_x86_stubs:
	.quad fw_x86_stub_0, fw_x86_stub_1, fw_x86_stub_2, fw_x86_stub_3
	.quad fw_x86_stub_4, fw_x86_stub_5, fw_x86_stub_6, fw_x86_stub_7
	.quad fw_x86_stub_8, fw_x86_stub_9, fw_x86_stub_10, fw_x86_stub_11
	.quad fw_x86_stub_12, fw_x86_stub_13, fw_x86_stub_14, fw_x86_stub_15
	.quad fw_x86_stub_16, fw_x86_stub_17, fw_x86_stub_18, fw_x86_stub_19
	.quad fw_x86_stub_20, fw_x86_stub_21

/* The calls whose faults are probed: the instruction is at a known place. */
	.text
	.globl fw_x86_vmcall_probe, fw_x86_vmcall_insn
fw_x86_vmcall_probe:		/* (id, a1, &result) */
	mov	%rdi, %rax
	mov	%rsi, %rdi
	push	%rdx
fw_x86_vmcall_insn:
	vmcall
	pop	%rdx
	mov	%rax, (%rdx)
	ret
	.globl fw_x86_vmmcall_probe, fw_x86_vmmcall_insn
fw_x86_vmmcall_probe:
	mov	%rdi, %rax
	mov	%rsi, %rdi
	push	%rdx
fw_x86_vmmcall_insn:
	vmmcall
	pop	%rdx
	mov	%rax, (%rdx)
	ret

	.data
	.balign 8
try_rsp:	.quad 0
gs_base:	.quad 0
	.globl fw_x86_trap
fw_x86_trap:	.quad 0, 0, 0, 0	/* vector, error code, rip, cs */

	.section .note.GNU-stack, "", @progbits
