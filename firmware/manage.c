/*
 * A service guest managing a restricted one through vmm's VM calls (run by
 * `vmm serve`, whose config registers the images): creates a VM from image
 * 0, starts it, waits for it to shut down, reports its exit status and
 * destroys it; then checks that it may not touch a VM the host created
 * (its own id, from whoami) nor one that does not exist. One line per
 * step: "manage: <step>: <result>".
 */
#include "fw.h"
#include <vmm-guest/calls.h>

#define STATE_SHUTDOWN 3
#define POLLS 2000000

static int64_t vm_call(const char *step, uint32_t id, uint64_t a1, int64_t out[4])
{
	int64_t r = fw_vmm_call(id, a1, 0, 0, 0, out);

	fw_printf("manage: %s: %s %lld\n", step, r < 0 ? "refused" : "ok", (long long)r);
	return r;
}

void fw_main(unsigned cpu)
{
	int64_t r[4], self[4], child;
	unsigned i;

	if (cpu != 0)
		return;
	fw_vmm_call(VMM_CALL_WHOAMI, 0, 0, 0, 0, self);
	fw_printf("manage: whoami: role %lld id %lld\n", (long long)self[1], (long long)self[2]);
	child = vm_call("create", VMM_CALL_VM_CREATE, 0, r);
	if (child < 0) {
		fw_exit(1);
	}
	vm_call("start", VMM_CALL_VM_START, (uint64_t)child, r);
	for (i = 0; i < POLLS; i++) {
		if (fw_vmm_call(VMM_CALL_VM_QUERY, (uint64_t)child, 0, 0, 0, r) < 0 ||
		    r[0] == STATE_SHUTDOWN)
			break;
		fw_cpu_relax();
	}
	fw_printf("manage: child state %lld exit status %lld\n", (long long)r[0], (long long)r[1]);
	vm_call("destroy", VMM_CALL_VM_DESTROY, (uint64_t)child, r);
	vm_call("query-destroyed", VMM_CALL_VM_QUERY, (uint64_t)child, r);
	vm_call("query-self", VMM_CALL_VM_QUERY, (uint64_t)self[2], r);
	vm_call("stop-self", VMM_CALL_VM_STOP, (uint64_t)self[2], r);
	vm_call("query-none", VMM_CALL_VM_QUERY, 9999, r);
	vm_call("create-bad-image", VMM_CALL_VM_CREATE, 999, r);
	fw_printf("manage: done\n");
}
