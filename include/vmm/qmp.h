/*
 * The control socket's protocol: QEMU's QMP wire format (greeting,
 * capabilities negotiation, execute/return/error, timestamped events),
 * independent of sockets so that it can be tested on strings.
 *
 * Layers: the splitter cuts a byte stream into JSON texts (stream.c); a
 * session turns one text into one reply (session.c): it checks the request
 * against the schema (schema.c, every command and event declared once)
 * and runs the command's handler (commands.c), which calls the VM manager
 * (manager.h) and nothing below it; the server (server.c) owns the
 * listening socket, the clients and the event fan-out.
 */
#ifndef VMM_QMP_H
#define VMM_QMP_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct manager;
struct manager_event;

/* A message (a request on the way in) larger than this closes the
 * connection. */
#define QMP_MAX_MESSAGE (1U << 20)
/* Deeper nesting than this closes the connection too. */
#define QMP_MAX_DEPTH 1024

/* --- Splitting a stream into JSON texts -------------------------------- */

/* Cuts top-level JSON values out of a byte stream without relying on
 * separators: it follows braces and brackets outside strings, and string
 * escapes. Anything at the top level that is not an object or array
 * (a scalar, a stray closing brace) comes out as one text of its own, for
 * the parser to refuse. */
struct qmp_splitter {
    GString *buf;
    unsigned depth;
    bool in_string, escape, in_scalar;
};

typedef void (*qmp_text_fn)(const char *text, size_t len, void *opaque);

void qmp_splitter_init(struct qmp_splitter *s);
void qmp_splitter_clear(struct qmp_splitter *s);
/* Feeds @len bytes, calling @emit for each complete text. False when the
 * value being read passed QMP_MAX_MESSAGE bytes or QMP_MAX_DEPTH levels:
 * the stream cannot be resynchronised, so the caller closes it. */
bool qmp_splitter_feed(struct qmp_splitter *s, const char *data, size_t len,
                       qmp_text_fn emit, void *opaque);
/* The same, but stops after the first text it emits: returns the bytes it
 * took (the rest are for the next call), -1 where feed() says false. The
 * server uses it to stop reading a client's requests at any point. */
ptrdiff_t qmp_splitter_feed_one(struct qmp_splitter *s, const char *data, size_t len,
                                qmp_text_fn emit, void *opaque);

/* --- Strict JSON ------------------------------------------------------- */

/* True when @text is exactly one RFC 8259 JSON value that json-glib reads
 * as written: no NUL in any string (not even as \u0000), no lone
 * surrogate, no duplicate member, integers within 64 bits, finite numbers,
 * nesting within QMP_MAX_DEPTH. *@id (when @id is not NULL): the raw text
 * of a top-level object's "id" member without whitespace between tokens,
 * or NULL; free with g_free(). */
bool qmp_json_check(const char *text, size_t len, char **id, GError **error);

/* --- Errors ------------------------------------------------------------ */

#define QMP_ERROR (qmp_error_quark())
GQuark qmp_error_quark(void);
/* The QMP error classes vmm uses; qmp_error_class() names them. */
typedef enum {
    QMP_ERROR_GENERIC,            /* GenericError */
    QMP_ERROR_COMMAND_NOT_FOUND,  /* CommandNotFound */
    QMP_ERROR_DEVICE_NOT_FOUND,   /* DeviceNotFound: no such VM */
    QMP_ERROR_DEVICE_NOT_ACTIVE,  /* DeviceNotActive */
} QmpErrorCode;
/* The class of any GError: QMP's own, the manager's, else GenericError. */
const char *qmp_error_class(const GError *error);

/* --- Sessions: one per connection -------------------------------------- */

struct qmp_session {
    struct manager *manager;
    bool negotiated;       /* qmp_capabilities has been answered */
    bool quit;             /* a quit was answered: end after the reply */
};

/* Parses one text and runs it; returns the reply as one line of JSON
 * without the line end. */
char *qmp_session_handle(struct qmp_session *s, const char *text, size_t len);

/* The greeting, one line without the line end. */
char *qmp_greeting(void);
/* An event as one line without the line end; takes @data (NULL: {}).
 * The event and its data must be as declared (schema.c): else it aborts. */
char *qmp_event_line(const char *name, JsonObject *data);
/* Whether @data is what event @name declares (the error says why not). */
bool qmp_event_data_check(const char *name, JsonObject *data, GError **error);
/* The event a manager notification becomes. */
char *qmp_event_from_manager(const struct manager_event *ev);

/* --- The server: a listening socket and its clients --------------------- */

struct qmp_server;

/* What the server lets its clients hold, so that no number or kind of
 * client grows vmm without bound (docs/qmp.md, "Limits"). */
struct qmp_limits {
    unsigned max_clients;       /* more are greeted with an error and closed */
    size_t out_high;            /* a client's requests are not read while
                                 * more than this of its output is queued */
    size_t max_backlog;         /* a client with more queued (events it does
                                 * not read) is disconnected */
    size_t max_held;            /* all clients' buffered input and output
                                 * together: past it, the one holding most
                                 * is disconnected */
    unsigned accept_retry_ms;   /* out of file descriptors: the listener
                                 * rests this long before accepting again */
};
#define QMP_DEFAULT_MAX_CLIENTS 64
extern const struct qmp_limits qmp_default_limits;

/* Listens on the Unix socket @path (mode 0600; a stale socket there is
 * replaced, a live one refused); @path NULL: no listener (clients come
 * through qmp_server_add_client()). Subscribes to @m's events. Runs on
 * @m's main context. */
struct qmp_server *qmp_server_new(struct manager *m, const char *path, GError **error);
/* Replaces the defaults (qmp_default_limits). */
void qmp_server_set_limits(struct qmp_server *s, const struct qmp_limits *limits);
/* Serves one connected stream socket (takes @fd); over max_clients, @fd
 * gets an error line and is closed. */
void qmp_server_add_client(struct qmp_server *s, int fd);
/* Called after a quit has been answered. */
void qmp_server_on_quit(struct qmp_server *s, void (*fn)(void *opaque), void *opaque);
unsigned qmp_server_client_count(const struct qmp_server *s);
/* Bytes the clients hold now: partial requests, unread input, output. */
size_t qmp_server_held(const struct qmp_server *s);
/* Closes every client and the listener, and removes the socket file. */
void qmp_server_free(struct qmp_server *s);

#endif
