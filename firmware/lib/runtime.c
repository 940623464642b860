/*
 * SMP bookkeeping shared by both architectures: run fw_main() on each vCPU,
 * and end the VM from vCPU 0 once every vCPU has returned from it.
 */
#include "fw-internal.h"

int fw_exit_status;

/* vCPUs that have returned from fw_main(). */
static uint32_t cpus_done;

void fw_spin_lock(fw_spinlock_t *lock)
{
	uint32_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
		fw_cpu_relax();
}

void fw_spin_unlock(fw_spinlock_t *lock)
{
	/* Only the holder writes owner, so a plain read-modify-write is
	 * enough; the release orders the critical section before it. */
	uint32_t next = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(&lock->owner, next, __ATOMIC_RELEASE);
}

noreturn void fw_runtime_run(unsigned cpu)
{
	fw_main(cpu);

	/* Release: this vCPU's output and any fw_exit_status it set happen
	 * before vCPU 0 sees the count. */
	__atomic_add_fetch(&cpus_done, 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		fw_arch_park();

	while (__atomic_load_n(&cpus_done, __ATOMIC_ACQUIRE) < fw_nr_cpus())
		fw_cpu_relax();
	fw_exit((unsigned)fw_exit_status);
}
