#include <cap-ng.h>
#include <errno.h>
#include <sys/prctl.h>

#include "vmm/caps.h"
#include "vmm/error.h"

bool caps_drop_all(GError **error)
{
    capng_select_t what = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "PR_SET_NO_NEW_PRIVS: %s",
                    g_strerror(errno));
        return false;
    }
    /* Only a process holding CAP_SETPCAP may shrink its bounding set; an
     * unprivileged one has nothing in it worth dropping anyway. */
    capng_get_caps_process();
    if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
        what = CAPNG_SELECT_ALL;
    capng_clear(what);
    if (capng_apply(what) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "cannot drop capabilities");
        return false;
    }
    return true;
}

bool caps_drop_bounding(GError **error)
{
    capng_get_caps_process();
    if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
        return true; /* it cannot, and it has nothing to keep */
    capng_clear(CAPNG_SELECT_BOUNDS);
    if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "cannot drop the capability bounding set");
        return false;
    }
    return true;
}
