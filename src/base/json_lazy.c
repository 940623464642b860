/*
 * vmm_json_load() for vmm itself (vmm/json_load.h): opens json-glib with
 * dlopen() and points each stub of src/arch/ARCH/json_stubs.S at its
 * function. Until then every stub leads to json_not_loaded(), which ends
 * vmm with a line naming the bug rather than jumping to nowhere.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/error.h"
#include "vmm/json_load.h"
#include "vmm/json_symbols.h"

#define JSON_GLIB_SONAME "libjson-glib-1.0.so.0"

static void json_not_loaded(void)
{
    fputs("vmm: a JSON function was called before vmm_json_load(): this is a bug in vmm\n",
          stderr);
    abort();
}

/* The stubs' pointers: hidden, so that a stub reaches its own with one
 * PC-relative load. */
#define VMM_JSON_SYMBOL(name) \
    __attribute__((visibility("hidden"))) void *vmm_json_ptr_##name = (void *)json_not_loaded;
VMM_JSON_SYMBOLS
#undef VMM_JSON_SYMBOL

static const struct {
    const char *name;
    void **ptr;
} symbols[] = {
#define VMM_JSON_SYMBOL(name) { #name, &vmm_json_ptr_##name },
    VMM_JSON_SYMBOLS
#undef VMM_JSON_SYMBOL
};

bool vmm_json_load(GError **error)
{
    static bool loaded;
    void *lib;

    if (loaded)
        return true;
    lib = dlopen(JSON_GLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "cannot load %s (Debian package libjson-glib-1.0-0): %s", JSON_GLIB_SONAME,
                    dlerror());
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(symbols); i++) {
        /* GObject's g_object_unref comes with json-glib's own dependencies. */
        void *f = dlsym(lib, symbols[i].name);

        if (!f) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s has no %s: %s", JSON_GLIB_SONAME,
                        symbols[i].name, dlerror());
            return false;
        }
        *symbols[i].ptr = f;
    }
    loaded = true; /* the library stays: vmm never unloads it */
    return true;
}
