/*
 * The control socket: a Unix stream listener and its clients, served from
 * the manager's main context with non-blocking I/O, so no client (slow,
 * silent, vanished) holds up another or a VM. Replies and events go out
 * as one line each, ending in CRLF, as QMP frames them.
 */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"

/* A client that lets this much output pile up (not reading its events)
 * is dropped rather than let it grow vmm without bound. */
#define QMP_MAX_BACKLOG (16U << 20)

struct qmp_client {
    struct qmp_server *server;
    int fd;
    guint in_watch, out_watch;
    struct qmp_splitter split;
    struct qmp_session session;
    GString *out;
    bool closing;          /* flush what is queued, then close */
    bool dead;
};

struct qmp_server {
    struct manager *manager;
    char *path;
    int listen_fd;
    guint listen_watch;
    GList *clients;
    void (*on_quit)(void *opaque);
    void *on_quit_data;
};

static void client_free(struct qmp_client *c)
{
    if (c->in_watch)
        g_source_remove(c->in_watch);
    if (c->out_watch)
        g_source_remove(c->out_watch);
    close(c->fd);
    qmp_splitter_clear(&c->split);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static void client_drop(struct qmp_client *c)
{
    struct qmp_server *s = c->server;

    s->clients = g_list_remove(s->clients, c);
    /* Its claimed calls are refused from now on, pending ones at once. */
    manager_monitor_gone(s->manager, &c->session);
    client_free(c);
}

static gboolean client_writable(gint fd, GIOCondition cond, gpointer data);

/* Writes what it can now; the rest waits for the socket to drain. */
static bool client_flush(struct qmp_client *c)
{
    while (c->out->len) {
        ssize_t n = send(c->fd, c->out->str, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return false; /* gone */
        g_string_erase(c->out, 0, n);
    }
    if (c->out->len && !c->out_watch)
        c->out_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, c->fd, G_IO_OUT, client_writable,
                                          c, NULL);
    return !(c->closing && !c->out->len);
}

static gboolean client_writable(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_client *c = data;

    c->out_watch = 0;
    if (c->dead || !client_flush(c)) {
        client_drop(c);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_REMOVE; /* client_flush re-arms it if needed */
}

static void client_send(struct qmp_client *c, char *line)
{
    g_string_append(c->out, line);
    g_string_append(c->out, "\r\n");
    g_free(line);
}

static void on_text(const char *text, size_t len, void *opaque)
{
    struct qmp_client *c = opaque;

    if (c->session.quit)
        return; /* nothing after quit */
    client_send(c, qmp_session_handle(&c->session, text, len));
}

static gboolean quit_idle(gpointer data)
{
    struct qmp_server *s = data;

    if (s->on_quit)
        s->on_quit(s->on_quit_data);
    return G_SOURCE_REMOVE;
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_client *c = data;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        c->in_watch = 0;
        client_drop(c);
        return G_SOURCE_REMOVE;
    }
    if (!qmp_splitter_feed(&c->split, buf, n, on_text, c)) {
        GError *e = g_error_new(QMP_ERROR, QMP_ERROR_GENERIC,
                                "Message too large or too deeply nested (limit %u bytes, "
                                "%u levels): closing the connection",
                                QMP_MAX_MESSAGE, QMP_MAX_DEPTH);
        JsonObject *top = json_object_new(), *err = json_object_new();
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        g_autoptr(JsonGenerator) gen = json_generator_new();

        json_object_set_string_member(err, "class", qmp_error_class(e));
        json_object_set_string_member(err, "desc", e->message);
        json_object_set_object_member(top, "error", err);
        json_node_take_object(node, top);
        json_generator_set_root(gen, node);
        client_send(c, json_generator_to_data(gen, NULL));
        json_node_unref(node);
        g_error_free(e);
        c->closing = true;
    }
    if (c->session.quit) {
        c->closing = true;
        g_idle_add(quit_idle, c->server);
    }
    if (c->closing) {
        /* Stop reading; go once the reply is out. */
        c->in_watch = 0;
        if (!client_flush(c))
            client_drop(c);
        return G_SOURCE_REMOVE;
    }
    if (c->dead || !client_flush(c) || c->out->len > QMP_MAX_BACKLOG) {
        c->in_watch = 0;
        client_drop(c);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void qmp_server_add_client(struct qmp_server *s, int fd)
{
    struct qmp_client *c = g_new0(struct qmp_client, 1);

    c->server = s;
    c->fd = fd;
    c->out = g_string_new(NULL);
    c->session.manager = s->manager;
    qmp_splitter_init(&c->split);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    s->clients = g_list_prepend(s->clients, c);
    client_send(c, qmp_greeting());
    c->in_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                     client_readable, c, NULL);
    if (!client_flush(c))
        client_drop(c);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_server *s = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (cfd >= 0)
        qmp_server_add_client(s, cfd);
    else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        vmm_log("control socket: accept: %s", g_strerror(errno));
    return G_SOURCE_CONTINUE;
}

/* Events go to negotiated clients only: a client sees none before its
 * qmp_capabilities has been answered. */
static void on_event(const struct manager_event *ev, void *opaque)
{
    struct qmp_server *s = opaque;
    g_autofree char *line = qmp_event_from_manager(ev);

    for (GList *l = s->clients; l; l = l->next) {
        struct qmp_client *c = l->data;

        if (!c->session.negotiated || c->closing || c->dead)
            continue;
        if (ev->target && ev->target != &c->session)
            continue; /* a call for another monitor */
        /* Queued, not written here: this may run inside a command of this
         * very client, which must not be freed under its feet. */
        g_string_append(c->out, line);
        g_string_append(c->out, "\r\n");
        if (c->out->len > QMP_MAX_BACKLOG)
            c->dead = true;
        if (!c->out_watch)
            c->out_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, c->fd, G_IO_OUT,
                                              client_writable, c, NULL);
    }
}

/* Binds @path, replacing a stale socket but never a live one or a file
 * that is not a socket. */
static int listen_on(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    mode_t old;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "--qmp: the path %s is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0) {
        int probe;

        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "--qmp: %s exists and is not a socket", path);
            return -1;
        }
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "--qmp: %s is in use by a running vmm (or another server)", path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(path); /* stale: nobody listens there */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "socket: %s", g_strerror(errno));
        return -1;
    }
    /* Born 0600: no window in which another user could connect. */
    old = umask(0077);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
        int e = errno;

        umask(old);
        close(fd);
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "--qmp: cannot listen on %s: %s", path,
                    g_strerror(e));
        return -1;
    }
    umask(old);
    chmod(path, 0600); /* exactly: the umask left it 0700 */
    return fd;
}

struct qmp_server *qmp_server_new(struct manager *m, const char *path, GError **error)
{
    struct qmp_server *s = g_new0(struct qmp_server, 1);

    s->manager = m;
    s->listen_fd = -1;
    if (path) {
        s->listen_fd = listen_on(path, error);
        if (s->listen_fd < 0) {
            g_free(s);
            return NULL;
        }
        s->path = g_strdup(path);
        s->listen_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, s->listen_fd, G_IO_IN,
                                             on_accept, s, NULL);
    }
    m->on_event = on_event;
    m->on_event_data = s;
    return s;
}

void qmp_server_on_quit(struct qmp_server *s, void (*fn)(void *opaque), void *opaque)
{
    s->on_quit = fn;
    s->on_quit_data = opaque;
}

unsigned qmp_server_client_count(const struct qmp_server *s)
{
    return g_list_length(s->clients);
}

void qmp_server_free(struct qmp_server *s)
{
    if (!s)
        return;
    if (s->manager->on_event_data == s)
        s->manager->on_event = NULL;
    while (s->clients) {
        struct qmp_client *c = s->clients->data;

        client_flush(c); /* a last try for replies and events */
        client_drop(c);
    }
    if (s->listen_watch)
        g_source_remove(s->listen_watch);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->path)
        unlink(s->path);
    g_free(s->path);
    g_free(s);
}
