/* Giving up privileges once the VM is built. */
#ifndef VMM_CAPS_H
#define VMM_CAPS_H

#include <glib.h>
#include <stdbool.h>

/* Drops every capability (effective, permitted, inheritable and the
 * bounding set) from the calling thread and sets no_new_privs, so threads
 * created afterwards (the vCPUs, device models) cannot regain any. */
bool caps_drop_all(GError **error);

/* Empties the bounding set only (where the process may: CAP_SETPCAP), so
 * that no later exec can grant a capability back; the others stay for
 * the steps that still need them (changing ids). */
bool caps_drop_bounding(GError **error);

#endif
