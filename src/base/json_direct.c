/*
 * vmm_json_load() for what links json-glib directly (vmm/json_load.h): the
 * unit tests, tools and benchmarks, where the library is already there.
 */
#include "vmm/json_load.h"

bool vmm_json_load(GError **error)
{
    return true;
}
