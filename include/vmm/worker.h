/*
 * One VM per worker: the manager's side (manager_worker_backend, a
 * struct manager_backend whose VMs each run in a worker reached over a
 * socketpair, vmm/worker_proto.h) and the worker's (worker_serve(), which
 * runs that one VM through an inner backend: KVM in vmm, the fake in the
 * unit tests). The manager treats a worker as hostile: one that dies,
 * stops answering within its bound or sends a malformed message is ended,
 * and its VM becomes shut down (GUEST_CRASHED, then SHUTDOWN) with the
 * reason; every other VM runs on.
 */
#ifndef VMM_WORKER_H
#define VMM_WORKER_H

#include <glib.h>
#include <stdbool.h>

#include "vmm/manager.h"

struct kvm;

/* How the worker backend starts and ends workers (m->backend_data). */
struct worker_launcher {
    /* Starts the worker of @mv: *fd the manager's end of a
     * SOCK_SEQPACKET channel, *handle whatever reap needs. */
    bool (*spawn)(const struct worker_launcher *l, struct mvm *mv, int *fd, void **handle,
                  GError **error);
    /* Ends the worker once the manager is done with it (its channel
     * closed: a worker exits then) or at once with @kill; waits for it.
     * How it ended ("killed by signal 9"), or NULL when there is nothing
     * to say. */
    char *(*reap)(const struct worker_launcher *l, void *handle, bool kill);
    void *data;
};
extern const struct manager_backend manager_worker_backend;

/* Bounds of the manager's waits on a worker. */
#define WORKER_HELLO_TIMEOUT_MS 30000  /* starting a process: slow on a loaded host */
#define WORKER_BUILD_TIMEOUT_MS 30000  /* reading a kernel and initrd, building */
#define WORKER_COMMAND_TIMEOUT_MS 5000 /* start, stop, resume, teardown: plus pause's own */

/* What a worker does once its VM is built and before it answers BUILD:
 * give up the host (src/cli/worker_main.c: the sandbox and its filter).
 * False with @error fails the build. */
typedef bool (*worker_lockdown_fn)(const struct mvm *mv, void *data, GError **error);

/* The worker's side: runs one VM, built from the manager's BUILD, through
 * @inner (with @kvm, NULL for a fake), until TEARDOWN or the channel
 * closes; @lockdown (NULL: none) runs after the build. 0 after a teardown
 * or a clean close, 1 when the manager's messages did not decode. Closes
 * @fd. */
int worker_serve(int fd, const struct manager_backend *inner, struct kvm *kvm,
                 worker_lockdown_fn lockdown, void *lockdown_data);

/* The VM config @cfg in the JSON form vm-create reads (config_load_json()),
 * so that a worker builds the VM the manager checked. */
char *worker_config_json(const struct vmm_config *cfg);

#endif
