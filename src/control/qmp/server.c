/*
 * The control socket: a Unix stream listener and its clients, served from
 * the manager's main context with non-blocking I/O, so no client (slow,
 * silent, vanished) holds up another or a VM. Replies and events go out
 * as one line each, ending in CRLF, as QMP frames them.
 *
 * Every byte a client makes vmm hold is bounded (struct qmp_limits): the
 * number of clients; a client's requests stop being read while its replies
 * are backed up (as QEMU's monitor suspends), so a client that never reads
 * costs one 64 KiB read and the replies to it; its unread events are capped;
 * and all clients together are capped, the greediest going first. Running
 * out of file descriptors rests the listener instead of spinning on it.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"

/* One read from a client; also the most of its input held unparsed. */
#define READ_SIZE 65536

const struct qmp_limits qmp_default_limits = {
    .max_clients = QMP_DEFAULT_MAX_CLIENTS,
    .out_high = 64U << 10,
    .max_backlog = 16U << 20,
    .max_held = 64U << 20,
    .accept_retry_ms = 500,
};

/* A log line that a client can cause comes at most once per interval;
 * the next one says how many were left out. */
struct ratelog {
    gint64 last;
    unsigned suppressed;
};
#define RATELOG_INTERVAL_US (10 * G_USEC_PER_SEC)

struct qmp_client {
    struct qmp_server *server;
    int fd;
    guint in_watch, out_watch;
    struct qmp_splitter split;
    struct qmp_session session;
    GString *in;           /* read, not yet through the splitter */
    size_t in_off;
    GString *out;
    bool eof;              /* the client shut down its sending side */
    bool closing;          /* flush what is queued, then close */
    bool dead;             /* to be dropped (by the reaper) */
};

struct qmp_server {
    struct manager *manager;
    struct qmp_limits limits;
    char *path;
    int listen_fd;
    guint listen_watch, retry_timer, reap_idle, quit_idle;
    GList *clients;
    unsigned nclients;
    struct ratelog log_full, log_fds, log_budget;
    void (*on_quit)(void *opaque);
    void *on_quit_data;
};

static void G_GNUC_PRINTF(2, 3) log_limited(struct ratelog *r, const char *fmt, ...)
{
    gint64 now = g_get_monotonic_time();
    g_autofree char *msg = NULL;
    va_list ap;

    if (r->last && now - r->last < RATELOG_INTERVAL_US) {
        r->suppressed++;
        return;
    }
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (r->suppressed)
        vmm_log("%s (and %u more like it)", msg, r->suppressed);
    else
        vmm_log("%s", msg);
    r->last = now;
    r->suppressed = 0;
}

static size_t client_held(const struct qmp_client *c)
{
    return c->split.buf->len + (c->in->len - c->in_off) + c->out->len;
}

size_t qmp_server_held(const struct qmp_server *s)
{
    size_t total = 0;

    for (GList *l = s->clients; l; l = l->next)
        total += client_held(l->data);
    return total;
}

/* Every source goes to the manager's main context, never to GLib's
 * default one: add_source() attaches, remove_source() finds it there. */
static guint add_source(struct qmp_server *s, GSource *src, GSourceFunc fn, gpointer data)
{
    guint id;

    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, fn, data, NULL);
    id = g_source_attach(src, s->manager->ctx);
    g_source_unref(src);
    return id;
}

static guint add_fd_watch(struct qmp_server *s, int fd, GIOCondition cond, GUnixFDSourceFunc fn,
                          gpointer data)
{
    return add_source(s, g_unix_fd_source_new(fd, cond), G_SOURCE_FUNC(fn), data);
}

static void remove_source(struct qmp_server *s, guint id)
{
    GSource *src = g_main_context_find_source_by_id(s->manager->ctx, id);

    if (src)
        g_source_destroy(src);
}

static void client_free(struct qmp_client *c)
{
    if (c->in_watch)
        remove_source(c->server, c->in_watch);
    if (c->out_watch)
        remove_source(c->server, c->out_watch);
    close(c->fd);
    qmp_splitter_clear(&c->split);
    g_string_free(c->in, TRUE);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static void listen_resume(struct qmp_server *s);

static void client_drop(struct qmp_client *c)
{
    struct qmp_server *s = c->server;

    s->clients = g_list_remove(s->clients, c);
    s->nclients--;
    /* Its claimed calls are refused from now on, pending ones at once. */
    manager_monitor_gone(s->manager, &c->session);
    client_free(c);
    /* A descriptor is free again: no need to wait for the retry. */
    if (s->retry_timer)
        listen_resume(s);
}

/* Drops the clients marked dead. Runs from the main loop, never inside a
 * command or an event fan-out, which may be holding one of them. */
static gboolean reap(gpointer data)
{
    struct qmp_server *s = data;
    GList *l = s->clients;

    s->reap_idle = 0;
    while (l) {
        struct qmp_client *c = l->data;

        l = l->next;
        if (c->dead)
            client_drop(c);
    }
    return G_SOURCE_REMOVE;
}

/* Marks @c to be dropped: its watches go now (a ready descriptor would
 * otherwise keep its source dispatching ahead of the reaper). */
static void client_kill(struct qmp_client *c)
{
    c->dead = true;
    if (c->in_watch)
        remove_source(c->server, c->in_watch);
    if (c->out_watch)
        remove_source(c->server, c->out_watch);
    c->in_watch = c->out_watch = 0;
    if (!c->server->reap_idle)
        c->server->reap_idle = add_source(c->server, g_idle_source_new(), reap, c->server);
}

/* Past max_held, the client holding most goes: it is the one that a
 * flood of half-sent requests or unread replies comes from. */
static void enforce_budget(struct qmp_server *s)
{
    for (;;) {
        struct qmp_client *worst = NULL;
        size_t total = 0, most = 0;

        for (GList *l = s->clients; l; l = l->next) {
            struct qmp_client *c = l->data;
            size_t held = client_held(c);

            if (c->dead)
                continue;
            total += held;
            if (held > most) {
                most = held;
                worst = c;
            }
        }
        if (total <= s->limits.max_held || !worst)
            return;
        log_limited(&s->log_budget, "control socket: clients hold %zu bytes (limit %zu): "
                    "disconnecting the one holding %zu", total, s->limits.max_held, most);
        client_kill(worst);
    }
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data);
static gboolean client_writable(gint fd, GIOCondition cond, gpointer data);

static void arm_output(struct qmp_client *c)
{
    if (c->out->len && !c->dead && !c->out_watch)
        c->out_watch = add_fd_watch(c->server, c->fd, G_IO_OUT | G_IO_HUP | G_IO_ERR,
                                    client_writable, c);
}

/* Reads while nothing read is left over and its replies are not backed
 * up; the watch comes and goes with that. */
static void update_watches(struct qmp_client *c)
{
    bool want_in = !c->eof && !c->closing && !c->dead && c->in_off == c->in->len &&
                   c->out->len <= c->server->limits.out_high;

    if (want_in && !c->in_watch)
        c->in_watch = add_fd_watch(c->server, c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                   client_readable, c);
    else if (!want_in && c->in_watch) {
        remove_source(c->server, c->in_watch);
        c->in_watch = 0;
    }
    arm_output(c);
}

/* Writes what it can now; false when the client is gone or done. */
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
    return !(c->closing && !c->out->len);
}

static void client_send(struct qmp_client *c, char *line)
{
    g_string_append(c->out, line);
    g_string_append(c->out, "\r\n");
    g_free(line);
}

static char *error_line(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static char *error_line(const char *fmt, ...)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *desc = NULL;
    JsonNode *root;
    va_list ap;
    char *line;

    va_start(ap, fmt);
    desc = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, "GenericError");
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    line = json_generator_to_data(gen, NULL);
    json_node_unref(root);
    return line;
}

static void on_text(const char *text, size_t len, void *opaque)
{
    struct qmp_client *c = opaque;

    client_send(c, qmp_session_handle(&c->session, text, len));
}

static gboolean quit_idle(gpointer data)
{
    struct qmp_server *s = data;

    s->quit_idle = 0;
    if (s->on_quit)
        s->on_quit(s->on_quit_data);
    return G_SOURCE_REMOVE;
}

/* Runs the client's complete requests, one at a time, while its output is
 * not backed up; then reads more, flushes, or closes, as the state says.
 * False: drop it now. */
static bool client_process(struct qmp_client *c)
{
    const struct qmp_limits *lim = &c->server->limits;

again:
    while (!c->closing && !c->dead && c->in_off < c->in->len && c->out->len <= lim->out_high) {
        ptrdiff_t n = qmp_splitter_feed_one(&c->split, c->in->str + c->in_off,
                                            c->in->len - c->in_off, on_text, c);

        if (n < 0) {
            client_send(c, error_line("Message too large or too deeply nested (limit %u "
                                      "bytes, %u levels): closing the connection",
                                      QMP_MAX_MESSAGE, QMP_MAX_DEPTH));
            c->closing = true;
            break;
        }
        c->in_off += n;
        if (c->session.quit) {
            /* Nothing after quit: answer it, then end. */
            c->closing = true;
            /* At the clients' priority: busy clients must not starve it. */
            if (!c->server->quit_idle)
                c->server->quit_idle = add_source(c->server, g_idle_source_new(),
                                                  quit_idle, c->server);
        }
    }
    if (c->in_off == c->in->len) {
        g_string_truncate(c->in, 0);
        c->in_off = 0;
    }
    /* Half-closed, every complete request answered: a partial one can
     * never be completed, so the connection ends once the replies are out. */
    if (c->eof && c->in_off == c->in->len)
        c->closing = true;
    if (c->dead || !client_flush(c))
        return false;
    /* The socket took the backlog at once: go on with what was read. */
    if (!c->closing && c->in_off < c->in->len && c->out->len <= lim->out_high)
        goto again;
    if (c->out->len > lim->max_backlog)
        return false;
    update_watches(c);
    enforce_budget(c->server);
    return true;
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_client *c = data;
    ssize_t n;

    if (c->dead)
        return G_SOURCE_CONTINUE; /* the reaper is on its way */
    if (c->in_off < c->in->len) {
        update_watches(c); /* what was read comes first: stop watching */
        return G_SOURCE_CONTINUE;
    }
    g_string_set_size(c->in, READ_SIZE);
    n = recv(fd, c->in->str, READ_SIZE, MSG_DONTWAIT);
    g_string_set_size(c->in, n > 0 ? n : 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    if (n < 0) {
        client_kill(c);
        return G_SOURCE_CONTINUE;
    }
    if (n == 0)
        c->eof = true;
    if (!client_process(c))
        client_kill(c);
    return G_SOURCE_CONTINUE; /* update_watches() removes it when reading stops */
}

static gboolean client_writable(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_client *c = data;

    c->out_watch = 0;
    if (c->dead || !client_flush(c) || !client_process(c))
        client_kill(c);
    return G_SOURCE_REMOVE; /* update_watches() re-arms it if needed */
}

void qmp_server_add_client(struct qmp_server *s, int fd)
{
    struct qmp_client *c;

    if (s->nclients >= s->limits.max_clients) {
        g_autofree char *line = error_line("Too many clients (the limit is %u): try again "
                                           "later", s->limits.max_clients);
        g_autofree char *framed = g_strconcat(line, "\r\n", NULL);

        /* Best effort: a fresh socket's buffer takes one short line. */
        if (send(fd, framed, strlen(framed), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            (void)0;
        close(fd);
        log_limited(&s->log_full, "control socket: a client was refused: already %u clients "
                    "(the limit)", s->nclients);
        return;
    }
    c = g_new0(struct qmp_client, 1);
    c->server = s;
    c->fd = fd;
    c->in = g_string_sized_new(READ_SIZE);
    c->out = g_string_new(NULL);
    c->session.manager = s->manager;
    qmp_splitter_init(&c->split);
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    s->clients = g_list_prepend(s->clients, c);
    s->nclients++;
    client_send(c, qmp_greeting());
    if (!client_process(c))
        client_kill(c);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data);

static void listen_resume(struct qmp_server *s)
{
    if (s->retry_timer)
        remove_source(s, s->retry_timer);
    s->retry_timer = 0;
    if (!s->listen_watch && s->listen_fd >= 0)
        s->listen_watch = add_fd_watch(s, s->listen_fd, G_IO_IN, on_accept, s);
}

static gboolean retry_accept(gpointer data)
{
    struct qmp_server *s = data;

    s->retry_timer = 0;
    listen_resume(s);
    return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    struct qmp_server *s = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (cfd >= 0) {
        qmp_server_add_client(s, cfd);
        return G_SOURCE_CONTINUE;
    }
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
        return G_SOURCE_CONTINUE;
    /* Out of descriptors (or memory): the connection stays queued and the
     * socket readable, so watching it now would spin. Rest, then retry
     * (sooner if a client leaves). */
    log_limited(&s->log_fds, "control socket: accept: %s; not accepting for %u ms",
                g_strerror(errno), s->limits.accept_retry_ms);
    s->listen_watch = 0;
    s->retry_timer = add_source(s, g_timeout_source_new(s->limits.accept_retry_ms),
                                retry_accept, s);
    return G_SOURCE_REMOVE;
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
        if (c->out->len > s->limits.max_backlog)
            client_kill(c);
        else
            arm_output(c);
    }
    enforce_budget(s);
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
    s->limits = qmp_default_limits;
    s->listen_fd = -1;
    if (path) {
        s->listen_fd = listen_on(path, error);
        if (s->listen_fd < 0) {
            g_free(s);
            return NULL;
        }
        s->path = g_strdup(path);
        listen_resume(s);
    }
    m->on_event = on_event;
    m->on_event_data = s;
    return s;
}

void qmp_server_set_limits(struct qmp_server *s, const struct qmp_limits *limits)
{
    s->limits = *limits;
}

void qmp_server_on_quit(struct qmp_server *s, void (*fn)(void *opaque), void *opaque)
{
    s->on_quit = fn;
    s->on_quit_data = opaque;
}

unsigned qmp_server_client_count(const struct qmp_server *s)
{
    return s->nclients;
}

void qmp_server_free(struct qmp_server *s)
{
    if (!s)
        return;
    if (s->manager->on_event_data == s)
        s->manager->on_event = NULL;
    if (s->retry_timer)
        remove_source(s, s->retry_timer);
    s->retry_timer = 0;
    while (s->clients) {
        struct qmp_client *c = s->clients->data;

        client_flush(c); /* a last try for replies and events */
        client_drop(c);
    }
    if (s->reap_idle)
        remove_source(s, s->reap_idle);
    if (s->quit_idle)
        remove_source(s, s->quit_idle);
    if (s->listen_watch)
        remove_source(s, s->listen_watch);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->path)
        unlink(s->path);
    g_free(s->path);
    g_free(s);
}
