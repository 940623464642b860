/*
 * The manager's fake backend, for the unit tests and the QMP fuzzer: VMs
 * with no KVM, no vCPU threads and no struct vm. A fake VM runs until it
 * is stopped; a test plays its vCPUs (fake_vm_stop) and its guest calls
 * (manager_host_call() and the rest, on a thread of the test's).
 */
#ifndef VMM_TESTS_FAKE_BACKEND_H
#define VMM_TESTS_FAKE_BACKEND_H

#include "vmm/manager.h"

/* What the manager asked of the backend, since the test reset it. */
struct fake_counts {
    unsigned builds, starts, pauses, resumes, stops, teardowns;
    unsigned stats_reads;     /* call_stats() calls */
    bool fail_build;          /* the next builds fail ("fake build failure") */
    unsigned build_delay_ms;  /* a slow build: the main loop is busy that long */
    struct mvm *last_built;   /* the VM of the last build (a worker's, in worker tests) */
};
extern struct fake_counts fake;
extern const struct manager_backend fake_backend;

/* The VM stops as a vCPU would stop it (the first stop wins, as in
 * vm_stop()): waits its vCPUs block in are woken. With @report, its last
 * vCPU has returned: the manager is told (on its main context). */
void fake_vm_stop(struct mvm *mv, vm_stop_reason reason, int status, const char *message,
                  bool report);
/* How many of its "vCPUs" wait on the manager now (a host call, a monitor). */
unsigned fake_vm_blocked(struct mvm *mv);

#endif
