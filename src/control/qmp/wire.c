/*
 * The wire's building blocks: QMP's error classes, compact one-line JSON,
 * the version object and the greeting.
 */
#include <stdio.h>

#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"

#include "internal.h"

#ifndef VMM_VERSION /* meson defines it; a build outside it (a fuzzer) may not */
#define VMM_VERSION "0.0.0"
#endif

VMM_DEFINE_QUARK(vmm-qmp-error-quark, qmp_error)

const char *qmp_error_class(const GError *error)
{
    if (error->domain == QMP_ERROR) {
        switch (error->code) {
        case QMP_ERROR_COMMAND_NOT_FOUND: return "CommandNotFound";
        case QMP_ERROR_DEVICE_NOT_FOUND: return "DeviceNotFound";
        case QMP_ERROR_DEVICE_NOT_ACTIVE: return "DeviceNotActive";
        default: return "GenericError";
        }
    }
    if (error->domain == MANAGER_ERROR && error->code == MANAGER_ERROR_NO_VM)
        return "DeviceNotFound";
    return "GenericError";
}

char *qmp_json_line(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    char *text;

    /* Compact: json-glib escapes control characters inside strings, so
     * the result is one line. */
    json_generator_set_pretty(gen, FALSE);
    json_generator_set_root(gen, node);
    text = json_generator_to_data(gen, NULL);
    json_node_unref(node);
    return text;
}

JsonNode *qmp_object_node(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return n;
}

JsonObject *qmp_version_object(void)
{
    JsonObject *version = json_object_new(), *qemu = json_object_new();
    unsigned major = 0, minor = 0, micro = 0;

    sscanf(VMM_VERSION, "%u.%u.%u", &major, &minor, &micro);
    json_object_set_int_member(qemu, "major", major);
    json_object_set_int_member(qemu, "minor", minor);
    json_object_set_int_member(qemu, "micro", micro);
    json_object_set_object_member(version, "qemu", qemu);
    json_object_set_string_member(version, "package", "vmm " VMM_VERSION);
    return version;
}

char *qmp_greeting(void)
{
    JsonObject *top = json_object_new(), *qmp = json_object_new();

    json_object_set_object_member(qmp, "version", qmp_version_object());
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(top, "QMP", qmp);
    return qmp_json_line(qmp_object_node(top));
}
