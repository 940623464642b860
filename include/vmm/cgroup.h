/*
 * A cgroup v2 per worker of vmm serve, where the host offers one: each
 * VM's process gets its own group with a memory and a task limit, and
 * the CPU is shared between VMs, not between their threads.
 *
 * vmm serve takes part of the hierarchy only where it may: it runs in the
 * root cgroup (a VM host's init, a container's own hierarchy), or in a
 * group delegated to it (systemd's Delegate=yes marks it with the
 * trusted.delegate or user.delegate extended attribute). Anywhere else it
 * leaves the hierarchy alone and says so.
 *
 * Setup runs in vmm serve before its filters; the rest runs in the worker
 * launcher, a fork of a threaded process: plain system calls, no GLib.
 */
#ifndef VMM_CGROUP_H
#define VMM_CGROUP_H

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

/* Where cgroup2 is mounted on every host that has it. */
#define CGROUP_MOUNT "/sys/fs/cgroup"

/* The group that will hold one group per worker: a directory descriptor,
 * or -1 with *@note saying why there is none (an error writing the
 * hierarchy is a note too: the workers run, unlimited). @tag names the
 * group made in the root cgroup ("vmm-serve-PID"). */
int cgroup_workers_setup(const char *tag, char **note);

/* The limits of one worker's group, from its VM's size. */
struct cgroup_limits {
    uint64_t memory_max;      /* bytes: memory.max */
    uint64_t pids_max;        /* tasks (threads): pids.max */
};
void cgroup_limits_for_vm(uint64_t guest_memory, unsigned vcpus, struct cgroup_limits *l);

/* Makes the group "worker-@pid" under @parent with @l and moves @pid in.
 * 0 or -errno (the group is removed again on failure). */
int cgroup_worker_add(int parent, pid_t pid, const struct cgroup_limits *l);
/* Removes the group of @pid, which has ended (reaped). */
void cgroup_worker_remove(int parent, pid_t pid);
/* Removes the group made by cgroup_workers_setup(), once every worker
 * has ended; closes @parent. */
void cgroup_workers_end(int parent);

#endif
