/* The commands behind the run lifecycle and the control socket: main.c
 * calls these. */
#ifndef VMM_SERVE_H
#define VMM_SERVE_H

struct vmm_config;

/* vmm serve --qmp unix:PATH [--config FILE]: argv[1] is "serve". */
int serve_main(int argc, char **argv);
/* vmm run: the VM @cfg describes (checked; its contents are taken), with
 * the control socket at @qmp (NULL: none) and a time limit of @timeout
 * seconds (0: none). Returns the exit status: the VM's, or vmm's own. */
int run_vm(struct vmm_config *cfg, const char *qmp, unsigned timeout);
/* vmm ctl --qmp PATH COMMAND [ARGS] | --events: argv[1] is "ctl". */
int ctl_main(int argc, char **argv);

/* vmm __worker FD [--no-seccomp] [--no-sandbox] [--user UID:GID]: one VM for vmm serve --workers on (not
 * in --help: only the manager starts it). */
int worker_main(int argc, char **argv);
/* How vmm serve --workers on starts and reaps them (worker_main.c): a
 * launcher process, started before the seccomp filters (which forbid
 * processes, and outlive an exec). */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
struct worker_launcher;
struct worker_options {
    bool seccomp;             /* the launcher sets it: vmm_seccomp_enabled() */
    bool sandbox;             /* confine each worker (vmm/sandbox.h) */
    uint32_t uid, gid;        /* when root: the workers' ids (SANDBOX_KEEP_ID: stay root) */
    bool warned_pid_ns;       /* the launcher's own */
    int cgroup;               /* the launcher's: its workers' cgroup (vmm/cgroup.h), or -1 */
    char cgroup_note[256];    /* the launcher's: why there is none, said once */
};
bool worker_launcher_start(struct worker_launcher *l, const struct worker_options *o,
                           GError **error);
/* "UID:GID", both decimal below 2^32 - 1: false for anything else. */
bool parse_uid_gid(const char *text, uint32_t *uid, uint32_t *gid);
/* Ends the launcher, and so every worker still running. */
void worker_launcher_stop(struct worker_launcher *l);

#endif
