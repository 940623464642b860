/*
 * Probes every kind of call to vmm and prints what the guest saw, one line
 * per probe: "calls: <probe>: <outcome>", where the outcome is "ok <hex>",
 * "refused <code>", or (x86_64) "#UD at the call" / "#GP(<code>) at the
 * call" when the call raised an exception there. The integration tests
 * run it under different policies and compare the lines (tests/integration
 * calls-*.sh). Ends with ucall done(0), or status 0 if that is refused.
 */
#include "fw.h"
#include <vmm-guest/calls.h>

static void outcome(const char *name, const struct fw_probe *p)
{
	if (p->faulted && p->vector == 6)
		fw_printf("calls: %s: #UD %s\n", name, p->at_call ? "at the call" : "elsewhere");
	else if (p->faulted && p->vector == 13)
		fw_printf("calls: %s: #GP(%llu) %s\n", name, (unsigned long long)p->error_code,
			  p->at_call ? "at the call" : "elsewhere");
	else if (p->faulted)
		fw_printf("calls: %s: exception %u\n", name, p->vector);
	else if (p->ret < 0)
		fw_printf("calls: %s: refused %lld\n", name, (long long)p->ret);
	else
		fw_printf("calls: %s: ok %#llx\n", name, (unsigned long long)p->ret);
}

static void probe(const char *name, uint32_t id, uint64_t a1, bool user)
{
	struct fw_probe p;

	if (fw_probe_call(id, a1, user, &p) == 0)
		outcome(name, &p);
}

/* A call that cannot fault (aarch64, or a VM known to be allowed). */
static void call(const char *name, uint32_t id, uint64_t a1, uint64_t a2, bool smc)
{
	int64_t r[4];
	struct fw_probe p = { 0 };

	if (smc)
		fw_vmm_call_smc(id, a1, a2, 0, 0, r);
	else
		fw_vmm_call(id, a1, a2, 0, 0, r);
	p.ret = r[0];
	outcome(name, &p);
	if (r[0] >= 0 && (id == VMM_CALL_VENDOR_HYP_UID || id == VMM_CALL_WHOAMI))
		fw_printf("calls: %s results: %#llx %#llx %#llx %#llx\n", name,
			  (unsigned long long)r[0], (unsigned long long)r[1],
			  (unsigned long long)r[2], (unsigned long long)r[3]);
}

static void ucalls(void)
{
	volatile struct vmm_ucall *u = (volatile struct vmm_ucall *)(uintptr_t)fw_ucall_gpa();
	uint64_t self;
	int64_t r;

	r = fw_ucall_printf("calls: ucall print works\n");
	fw_printf("calls: ucall-print: %s %lld\n", r < 0 ? "refused" : "ok", (long long)r);
	r = fw_ucall_sync(42);
	fw_printf("calls: ucall-sync: %s %lld\n", r < 0 ? "refused" : "ok", (long long)r);
	r = fw_ucall(VMM_CALL_VERSION, 0, NULL, 0, NULL, 0);
	fw_printf("calls: ucall-version: %s %#llx\n", r < 0 ? "refused" : "ok", (long long)r);

	/* Doorbells vmm must refuse, count and never follow. */
	fw_ucall_ring_raw(fw_ucall_gpa() + 64);         /* x86_64: the same page */
	fw_ucall_ring_raw(fw_ucall_gpa() + VMM_UCALL_STRIDE);
	fw_ucall_ring_raw(0x7ffff000ULL);
	self = u->self;
	u->self = self + 1;
	fw_ucall_ring_raw(fw_ucall_gpa());
	u->self = self;
	u->text_len = VMM_UCALL_TEXT_MAX + 1;
	u->cmd = VMM_CALL_UCALL_PRINT;
	fw_ucall_ring_raw(fw_ucall_gpa());
	u->text_len = 0;
	fw_ucall_ring_narrow(fw_ucall_gpa());
	fw_printf("calls: bad doorbells rung\n");
}

void fw_main(unsigned cpu)
{
	struct fw_probe p;
	bool x86;

	if (cpu != 0)
		return;
	x86 = fw_probe_call(VMM_CALL_VERSION, 0, true, &p) == 0;
	if (x86) {
		outcome("version-ring3", &p);
		probe("version", VMM_CALL_VERSION, 0, false);
		probe("whoami", VMM_CALL_WHOAMI, 0, false);
		probe("vendor-uid", VMM_CALL_VENDOR_HYP_UID, 0, false);
		probe("features-console", VMM_CALL_FEATURES, VMM_CALL_CONSOLE_WRITE, false);
		probe("vm-query", VMM_CALL_VM_QUERY, 1, false);
		probe("unknown", 0xc60010feU, 0, false);
		/* Past the probes only a VM that may call can go on calling. */
		if (p.faulted && p.vector == 6)
			goto done;
	} else {
		call("version", VMM_CALL_VERSION, 0, 0, false);
		call("version-smc", VMM_CALL_VERSION, 0, 0, true);
		call("vm-query", VMM_CALL_VM_QUERY, 1, 0, false);
		call("unknown", 0xc60010feU, 0, 0, false);
		call("trng-version", SMCCC_TRNG_VERSION_ID, 0, 0, false);
		call("trng-version-smc", SMCCC_TRNG_VERSION_ID, 0, 0, true);
		call("smccc-version", SMCCC_VERSION_ID, 0, 0, false);
	}
	call("whoami", VMM_CALL_WHOAMI, 0, 0, false);
	call("vendor-uid", VMM_CALL_VENDOR_HYP_UID, 0, 0, false);
	call("vendor-uid-smc", VMM_CALL_VENDOR_HYP_UID, 0, 0, true);
	call("vendor-revision", VMM_CALL_VENDOR_HYP_REVISION, 0, 0, false);
	{
		static const char msg[] = "calls: console call works\n";

		call("console-write", VMM_CALL_CONSOLE_WRITE, (uintptr_t)msg, sizeof(msg) - 1, false);
		call("console-write-too-long", VMM_CALL_CONSOLE_WRITE, (uintptr_t)msg, 1 << 20, false);
		/* Far beyond the 64 MiB of RAM the tests give it. */
		call("console-write-outside-ram", VMM_CALL_CONSOLE_WRITE, 0x7ffff000ULL, 16, false);
	}
	call("features-64-bit-id", VMM_CALL_FEATURES, 1ULL << 32 | VMM_CALL_VERSION, 0, false);
done:
	ucalls();
	fw_printf("calls: done\n");
	if (fw_ucall_done(0) < 0)
		fw_exit(0);
}
