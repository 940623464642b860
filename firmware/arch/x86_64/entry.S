/*
 * x86_64 entry. vmm starts every vCPU here at once, in long mode with
 * identity paging, interrupts off and no IDT, with RDI = vCPU index,
 * RSI = number of vCPUs, RDX = RAM size, R8 = this vCPU's ucall structure
 * and RSP = this vCPU's own stack.
 */
#define MSR_GS_BASE 0xc0000101

	.section .text.entry, "ax", @progbits
	.code64
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	mov	%rdi, %r12		/* callee-saved across the calls below */
	mov	%rsi, %r13
	mov	%rdx, %r14

	/* Per-vCPU data lives at the top of the vCPU's own stack, found
	 * through GS: no array to size, so any vCPU count works. */
	and	$-16, %rsp
	sub	$16, %rsp
	movl	%r12d, (%rsp)
	mov	%r8, 8(%rsp)		/* GS:8, the ucall structure */
	mov	%rsp, %rax
	mov	%rsp, %rdx
	shr	$32, %rdx
	mov	$MSR_GS_BASE, %ecx
	wrmsr

	test	%r12, %r12
	jnz	.Lwait_for_boot_cpu

	/* vCPU 0 alone zeroes .bss while the others wait below, on a flag
	 * outside .bss so that zeroing cannot touch it. */
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	mov	%r13, %rdi
	mov	%r14, %rsi
	call	fw_x86_boot
	/* xchg with memory is a full barrier: .bss and what fw_x86_boot
	 * stored are visible before any other vCPU is released. */
	mov	$1, %eax
	xchg	%eax, boot_done(%rip)
	jmp	.Lrun

.Lwait_for_boot_cpu:
	pause
	cmpl	$0, boot_done(%rip)
	je	.Lwait_for_boot_cpu

.Lrun:
	mov	%r12d, %edi
	call	fw_runtime_run
	ud2
	.size _start, . - _start

	.data
	.balign 4
boot_done:
	.long	0

	.section .note.GNU-stack, "", @progbits
