/* QMP events: each written through its declaration (schema.c), and the
 * manager's notifications as events. */
#include "vmm/calls.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"

#include "internal.h"

bool qmp_event_data_check(const char *name, JsonObject *data, GError **error)
{
    const struct qmp_event_decl *decl = qmp_schema_event(name);
    g_autoptr(GError) e = NULL;

    if (!decl) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "event %s is not declared", name);
        return false;
    }
    if (!qmp_schema_check(decl->data, qmp_event_common, data, "", &e)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "event %s: %s", name, e->message);
        return false;
    }
    return true;
}

char *qmp_event_line(const char *name, JsonObject *data)
{
    JsonObject *top = json_object_new(), *ts = json_object_new();
    g_autoptr(GError) error = NULL;
    gint64 now = g_get_real_time();

    if (!data)
        data = json_object_new();
    /* A client reads what docs/qmp.md says: anything else is vmm's bug. */
    if (!qmp_event_data_check(name, data, &error))
        g_error("%s", error->message);
    json_object_set_string_member(top, "event", name);
    json_object_set_object_member(top, "data", data);
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(top, "timestamp", ts);
    return qmp_json_line(qmp_object_node(top));
}

char *qmp_event_from_manager(const struct manager_event *ev)
{
    JsonObject *d = json_object_new();
    const char *name = "?";

    json_object_set_string_member(d, "vm", ev->vm);
    json_object_set_int_member(d, "id", ev->id);
    switch (ev->kind) {
    case MEV_VM_STARTED: name = "VM_STARTED"; break;
    case MEV_STOP: name = "STOP"; break;
    case MEV_RESUME: name = "RESUME"; break;
    case MEV_VM_DESTROYED: name = "VM_DESTROYED"; break;
    case MEV_RESET:
        name = "RESET";
        json_object_set_boolean_member(d, "guest", ev->guest);
        json_object_set_string_member(d, "reason", ev->reason);
        break;
    case MEV_SHUTDOWN:
        name = "SHUTDOWN";
        json_object_set_boolean_member(d, "guest", ev->guest);
        json_object_set_string_member(d, "reason", ev->reason);
        json_object_set_int_member(d, "status", ev->status);
        break;
    case MEV_GUEST_CRASHED:
        name = "GUEST_CRASHED";
        json_object_set_string_member(d, "action", "shutdown");
        if (ev->message)
            json_object_set_string_member(d, "message", ev->message);
        break;
    case MEV_HYPERCALL_DENIED: {
        const struct call_entry *e = call_lookup(ev->call);

        name = "HYPERCALL_DENIED";
        json_object_set_int_member(d, "vcpu", ev->vcpu);
        json_object_set_int_member(d, "call", ev->call);
        json_object_set_string_member(d, "call-name", e ? e->name : "unknown");
        json_object_set_string_member(d, "reason", ev->reason);
        break;
    }
    case MEV_GUEST_CALL: {
        JsonArray *args = json_array_new();

        name = "GUEST_CALL";
        json_object_set_int_member(d, "vcpu", ev->vcpu);
        json_object_set_string_member(d, "conduit", ev->conduit);
        json_object_set_int_member(d, "call", ev->call);
        /* Registers are unsigned 64-bit; JSON integers here are signed:
         * values above INT64_MAX come out negative (two's complement). */
        for (int i = 0; i < 4; i++)
            json_array_add_int_element(args, (gint64)ev->args[i]);
        json_object_set_array_member(d, "args", args);
        json_object_set_int_member(d, "token", ev->token);
        break;
    }
    }
    return qmp_event_line(name, d);
}
