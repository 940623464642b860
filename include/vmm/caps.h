/* Giving up privileges once the VM is built. */
#ifndef VMM_CAPS_H
#define VMM_CAPS_H

#include <glib.h>
#include <stdbool.h>

/* Drops every capability (effective, permitted, inheritable and the
 * bounding set) from the calling thread and sets no_new_privs, so threads
 * created afterwards (the vCPUs, device models) cannot regain any. */
bool caps_drop_all(GError **error);

#endif
