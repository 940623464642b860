/*
 * The virtiofsd that serves one share: started when the VM is built,
 * connected to vmm over a socket pair (--fd, so there is no socket path
 * to race on), stopped and reaped with the VM.
 *
 * The daemon is $VMM_VIRTIOFSD when set, else /usr/lib/qemu/virtiofsd
 * (Debian's qemu-system-common). A read-only share is enforced on the
 * host's side: the daemon runs in a mount namespace of its own where the
 * folder (and every mount below it) is a read-only bind mount, since that
 * daemon has no read-only switch. That takes root, or, for any other
 * user, a user namespace in which the daemon is root (mapped to the
 * user): then it serves the guest as that one user.
 */
#ifndef VMM_HW_VIRTIOFSD_H
#define VMM_HW_VIRTIOFSD_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "vmm/device.h"

#define VIRTIOFSD_DEFAULT "/usr/lib/qemu/virtiofsd"

struct virtiofsd {
    pid_t pid;           /* 0: none (not started, or reaped) */
    int sock;            /* vmm's end of the socket pair, -1: none */
    char *what;          /* "share TAG": how messages name it */
    int status;          /* its wait status once reaped */
};

/* Starts the daemon for @share: false, with one line naming the share
 * and why, when it is missing, the folder is not one, or the namespace
 * cannot be made. The daemon's own start-up failures show at the first
 * message to it (virtiofsd_why() says how it ended). */
bool virtiofsd_start(struct virtiofsd *d, const struct device_share *share, GError **error);
/* Why the daemon is not answering, if it has ended: "virtiofsd exited
 * with status 1" (it is reaped), waiting up to @wait_ms for it to end;
 * NULL while it runs. */
char *virtiofsd_why(struct virtiofsd *d, unsigned wait_ms);
/* SIGTERM, then SIGKILL if it has not ended within a second; reaped; its
 * socket closed. Twice is harmless. */
void virtiofsd_stop(struct virtiofsd *d);

#endif
