/*
 * What the files of src/control/qmp/ share and nothing outside needs: a
 * checked request as handlers see it (request.c), the handlers by name
 * (commands.c), and the wire's building blocks (wire.c).
 */
#ifndef VMM_QMP_INTERNAL_H
#define VMM_QMP_INTERNAL_H

#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "schema.h"

struct qmp_session;

/* A request that passed every check of its declaration. */
struct qmp_request {
    struct qmp_session *session;
    const struct qmp_command_decl *decl;
    JsonObject *args;      /* never NULL; checked against decl */
    const char *vm;        /* QMP_CMD_VM: the VM's name, resolved */
};

typedef JsonNode *(*qmp_handler_fn)(struct qmp_request *req, GError **error);

struct qmp_handler {
    const char *name;      /* a command of qmp_schema_commands */
    qmp_handler_fn fn;
};
extern const struct qmp_handler qmp_handlers[];
extern const size_t qmp_handlers_len;
qmp_handler_fn qmp_handler_find(const char *name);

/* A checked argument, as its declared type (asking for an undeclared
 * argument, or as another type, is a bug: it aborts). Absent: NULL, false,
 * or for an integer its declared default. */
const char *qmp_arg_str(const struct qmp_request *req, const char *name);
gint64 qmp_arg_int(const struct qmp_request *req, const char *name);
bool qmp_arg_bool(const struct qmp_request *req, const char *name);
JsonArray *qmp_arg_array(const struct qmp_request *req, const char *name);
JsonObject *qmp_arg_object(const struct qmp_request *req, const char *name);
bool qmp_arg_has(const struct qmp_request *req, const char *name);

/* wire.c: a node as one line of compact JSON (takes @node), an object as
 * a node (takes @o), and QMP's VersionInfo. */
char *qmp_json_line(JsonNode *node);
JsonNode *qmp_object_node(JsonObject *o);
JsonObject *qmp_version_object(void);

#endif
