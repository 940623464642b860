/* vmm's own errors, and the process exit statuses they map to. */
#ifndef VMM_ERROR_H
#define VMM_ERROR_H

#include <glib.h>

#define VMM_ERROR (vmm_error_quark())
GQuark vmm_error_quark(void);

/* G_DEFINE_QUARK's cache is a plain static that the first callers fill
 * without synchronisation: two threads making their first error of a
 * domain at once race on it (ThreadSanitizer reports it, under load, in
 * the manager's and its workers' threads). vmm's error domains are
 * defined with this instead, which fills the cache atomically. */
#define VMM_DEFINE_QUARK(QN, q_n)                                  \
    GQuark q_n##_quark(void)                                       \
    {                                                              \
        static GQuark q;                                           \
        GQuark v = __atomic_load_n(&q, __ATOMIC_ACQUIRE);          \
                                                                   \
        if (G_UNLIKELY(!v)) {                                      \
            v = g_quark_from_static_string(#QN);                   \
            __atomic_store_n(&q, v, __ATOMIC_RELEASE);             \
        }                                                          \
        return v;                                                  \
    }

/* One code per exit status a failure of vmm itself can end with. */
typedef enum {
    VMM_ERROR_CONFIG,   /* bad arguments or configuration */
    VMM_ERROR_NO_KVM,   /* no usable /dev/kvm */
    VMM_ERROR_KVM,      /* a KVM ioctl failed */
    VMM_ERROR_HOST,     /* any other host failure (memory, threads, files) */
} VmmError;

/* Exit statuses: docs and README have the same table. */
enum {
    VMM_EXIT_GUEST_MAX   = 119, /* 0..119: the guest's own status */
    VMM_EXIT_CRASHED     = 120, /* triple fault, internal error, unhandled exception */
    VMM_EXIT_PANIC       = 121, /* guest kernel panic */
    /* 122: --host-root's guest init could not set up (the guest chooses
     * it: HOSTROOT_EXIT_INIT in vmm-guest/hostroot.h) */
    VMM_EXIT_TIMEOUT     = 124,
    VMM_EXIT_USAGE       = 125, /* bad arguments or configuration */
    VMM_EXIT_NO_KVM      = 126,
    VMM_EXIT_KVM_ERROR   = 127, /* KVM or host error while running */
    VMM_EXIT_SIGNAL_BASE = 128, /* + signal number, after an orderly stop */
};

/* The exit status for a failure reported through @error (any domain). */
int vmm_error_exit_status(const GError *error);

/* Print "vmm: <message>" on stderr: the one place vmm's messages go out. */
void vmm_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Where vmm_log() lines go instead of stderr (NULL: stderr); returns the
 * previous sink. Each call gets one whole line, under vmm_log()'s lock. */
typedef void (*vmm_log_sink_fn)(const char *line, size_t len);
vmm_log_sink_fn vmm_log_set_sink(vmm_log_sink_fn sink);
/* From start to stop (log_async.c), vmm_log() never waits for the reader of stderr: lines
 * go through a bounded queue (vmm/outbuf.h), and those that do not fit are
 * dropped and counted. Stop writes out what is queued (bounded) and says
 * how much was dropped. */
void vmm_log_async_start(void);
void vmm_log_async_stop(void);

#endif
