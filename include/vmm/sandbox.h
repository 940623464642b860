/*
 * Confinement of a process that runs one VM (a worker of vmm serve): once
 * its VM is built (every file it needs is open), it gives up the host.
 * Each step applies where the host supports it; a step the host cannot
 * apply is skipped with a note saying why, a step that fails where it
 * should apply is an error.
 */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_KEEP_ID ((uint32_t)-1)

struct sandbox_config {
    /* The uid and gid to become when started as root (SANDBOX_KEEP_ID:
     * stay root, without capabilities). Ignored when not root. */
    uint32_t uid, gid;
    /* RLIMIT_AS: what the process maps when it enters the sandbox (its
     * guest RAM among it) plus this many bytes (0: no limit). */
    uint64_t address_space_headroom;
    uint64_t open_files;      /* RLIMIT_NOFILE (0: leave it) */
};

/* fork() into a new PID namespace where the host allows it (the child is
 * its PID 1), else a plain fork(); *@own_pid_ns says which. */
pid_t sandbox_spawn(bool *own_pid_ns);

/* The first step, while the process has one thread (namespaces are per
 * thread, and inherited by the threads it starts later): new mount, IPC,
 * UTS and network namespaces (through a user namespace when not root).
 * Files stay reachable until sandbox_enter(). @notes gets one line per
 * step the host could not apply. */
bool sandbox_prepare(GPtrArray *notes, GError **error);

/* The rest, once every file the process needs is open and before it
 * starts threads that should inherit it: an empty read-only root (for
 * every thread: they share it); the resource limits; the uid and gid; no
 * capabilities and no_new_privs; a Landlock domain that allows no file
 * system access. Landlock and capabilities are per thread: a thread that
 * exists by now (a device's worker, started with its VM) takes them with
 * sandbox_adopt() (vmm_seccomp_adopt() calls it); the console writer is
 * held back instead (outbuf_defer_writers()). The caller installs
 * its seccomp filter next. */
bool sandbox_enter(const struct sandbox_config *c, GPtrArray *notes, GError **error);

/* On a thread that existed before sandbox_enter(), once it has been
 * entered: the same Landlock domain, and no capabilities. Only ever
 * narrows; nothing when there is no sandbox. */
void sandbox_adopt(void);

#endif
