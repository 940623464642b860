/*
 * json-glib, loaded only where vmm speaks JSON. Most of vmm's start-up cost
 * was the dynamic loader binding json-glib and the GIO chain it brings
 * (bench/README.md, issue 15), on paths that never use them (`vmm run`
 * without --qmp, `vmm --version`). So vmm itself does not link json-glib:
 * it calls these entry points, which load it, before the first JSON use
 * and before any seccomp filter (a filter forbids mapping code).
 * Tests and tools link json-glib directly, where loading does nothing.
 */
#ifndef VMM_JSON_LOAD_H
#define VMM_JSON_LOAD_H

#include <glib.h>
#include <stdbool.h>

/* Loads json-glib (once; later calls return at once). */
bool vmm_json_load(GError **error);

#endif
