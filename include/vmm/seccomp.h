/*
 * seccomp: once set-up is over, each kind of thread runs under its own
 * allow-list of system calls (src/base/seccomp.c holds one table per kind). A
 * call outside it kills vmm with one line naming the thread kind and the
 * call, and status 127.
 *
 * Order matters because filters are per thread, inherited by the threads a
 * thread creates, and stack (a call must pass every filter of the thread):
 * - a main thread (VMM_THREAD_MAIN, VMM_THREAD_SERVE) installs its filter
 *   first, before it starts any thread of its own, and for every thread
 *   that exists then (TSYNC: GLib's "gmain" worker, which vmm cannot run
 *   code on). That filter also allows what the threads it will start need,
 *   since they inherit it;
 * - each started thread (VMM_THREAD_VCPU, VMM_THREAD_STDIN) then installs
 *   its own list on top, as its first act;
 * - a helper thread that existed before (an output queue's writer) calls
 *   vmm_seccomp_adopt() in its loop and narrows itself once it sees it;
 * - vmm run's main thread, once it starts no more threads, narrows itself
 *   to its own list (vmm_seccomp_narrow()). vmm serve's cannot: it starts
 *   vCPU threads for as long as it runs.
 */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <glib.h>
#include <stdbool.h>

enum vmm_thread_kind {
    VMM_THREAD_MAIN,  /* the main loop of vmm run */
    VMM_THREAD_SERVE, /* the main loop of vmm serve and of vmm run --qmp */
    VMM_THREAD_WORKER, /* the main loop of a confined worker (vmm serve --workers on) */
    VMM_THREAD_VCPU,  /* a vCPU thread */
    VMM_THREAD_STDIN, /* the console input thread (src/core/console_input.c) */
    VMM_THREAD_OUTPUT, /* a bounded output queue's writer (log, console) */
    VMM_THREAD_DEVICE, /* a device's worker (virtio queues: src/devices/virtio_pci.c) */
    VMM_THREAD_BLOCK_IO, /* a virtio-blk device's worker: the device list and disk I/O */
    VMM_THREAD_FS,    /* a virtio-fs device's worker: the device list and vhost-user */
    VMM_THREAD_KINDS
};

/* No filters in this process (--no-seccomp, [security] seccomp = false).
 * Call before the first vmm_seccomp_enter(). */
void vmm_seccomp_disable(void);
bool vmm_seccomp_enabled(void);

/* Installs the calling thread's filter for @kind (nothing when disabled).
 * A main kind installs it for every thread of the process. */
bool vmm_seccomp_enter(enum vmm_thread_kind kind, GError **error);

/* vmm run's main thread, once it starts no more threads: its own list only. */
bool vmm_seccomp_narrow(enum vmm_thread_kind kind, GError **error);

/* A helper thread started before the main thread's filter, which it got
 * through TSYNC: narrows itself to @kind's own list once that filter is on.
 * One atomic load until then: call it in the thread's loop. */
void vmm_seccomp_adopt(enum vmm_thread_kind kind);
/* What an adopting thread does first, before it narrows (the worker
 * sandbox's sandbox_adopt()); set before the main kind's filter. */
void vmm_seccomp_on_adopt(void (*hook)(void));

/* A main kind's filter is on: the process dropped its privileges before
 * (a thread started now inherits none, and may not call capset). */
bool vmm_seccomp_process_filtered(void);

#endif
