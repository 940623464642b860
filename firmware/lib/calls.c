/*
 * Calls to vmm: the hypercall wrappers and the ucall channel, the same on
 * both architectures (the arch files supply the instruction, where the
 * structure is and how the doorbell rings).
 */
#include "fw-internal.h"
#include <vmm-guest/calls.h>

int64_t fw_vmm_call(uint32_t id, uint64_t a1, uint64_t a2, uint64_t a3,
		    uint64_t a4, int64_t out[4])
{
	const uint64_t a[4] = { a1, a2, a3, a4 };

	return fw_arch_vmm_call(id, a, out, false);
}

int64_t fw_vmm_call_smc(uint32_t id, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4, int64_t out[4])
{
	const uint64_t a[4] = { a1, a2, a3, a4 };

	return fw_arch_vmm_call(id, a, out, true);
}

int fw_probe_call(uint32_t id, uint64_t a1, bool user_mode, struct fw_probe *p)
{
	memset(p, 0, sizeof(*p));
	return fw_arch_probe_call(id, a1, user_mode, p);
}

uint64_t fw_ucall_gpa(void)
{
	return fw_arch_ucall_gpa(fw_cpu_id());
}

void fw_ucall_ring_raw(uint64_t gpa)
{
	fw_arch_ucall_ring(gpa);
}

void fw_ucall_ring_narrow(uint64_t gpa)
{
	fw_arch_ucall_ring_narrow(gpa);
}

int64_t fw_ucall(uint32_t cmd, uint64_t arg, const char *file, unsigned line,
		 const char *text, unsigned text_len)
{
	uint64_t gpa = fw_ucall_gpa();
	/* RAM is identity-mapped on both architectures. */
	volatile struct vmm_ucall *u = (volatile struct vmm_ucall *)(uintptr_t)gpa;
	unsigned file_len = file ? (unsigned)strlen(file) : 0, i;

	if (!gpa)
		return VMM_RET_NOT_SUPPORTED;
	if (file_len > VMM_UCALL_TEXT_MAX)
		file_len = VMM_UCALL_TEXT_MAX;
	if (text_len > VMM_UCALL_TEXT_MAX - file_len)
		text_len = VMM_UCALL_TEXT_MAX - file_len;
	for (i = 0; i < file_len; i++)
		u->text[i] = file[i];
	for (i = 0; i < text_len; i++)
		u->text[file_len + i] = text[i];
	u->cmd = cmd;
	u->arg = arg;
	u->line = line;
	u->file_len = file_len;
	u->text_len = file_len + text_len;
	u->ret[0] = VMM_RET_NOT_SUPPORTED; /* what a refused doorbell leaves */
	fw_arch_ucall_ring(gpa);
	return u->ret[0];
}

int64_t fw_ucall_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	return fw_ucall(VMM_CALL_UCALL_PRINT, 0, NULL, 0, buf, (unsigned)n);
}

int64_t fw_ucall_sync(uint64_t stage)
{
	return fw_ucall(VMM_CALL_UCALL_SYNC, stage, NULL, 0, NULL, 0);
}

int64_t fw_ucall_done(unsigned status)
{
	return fw_ucall(VMM_CALL_UCALL_DONE, status, NULL, 0, NULL, 0);
}

int64_t fw_ucall_abort(const char *file, unsigned line, const char *msg)
{
	return fw_ucall(VMM_CALL_UCALL_ABORT, 0, file, line, msg, (unsigned)strlen(msg));
}
