/*
 * query-status round trips per second over the control socket, with 1 and
 * with 16 clients: bench/qmp [SECONDS]. The server is vmm's own (the same
 * splitter, session, command table, manager and Unix socket code as
 * `vmm serve`) on its own main-loop thread; the VM it reports on is the
 * tests' fake (tests/fake_backend.c), which never runs (query-status reads
 * the manager's state and never touches KVM), so the figure is the socket
 * path's alone and needs no /dev/kvm. Each client sends one request and waits for its reply.
 *
 * Then the event path: 16 clients only listen while one more alternates
 * `stop` and `cont` on the VM (each a STOP or RESUME event to every
 * client); events delivered per second over all listeners, and a check
 * that every listener received every event.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"

#include "../tests/fake_backend.h"

static char sock_path[108];
static volatile int go, done;

struct client {
    GThread *thread;
    unsigned long trips;
};

static int connect_to(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(sa.sun_path, sock_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* Reads until @lines line ends have arrived. */
static void read_lines(int fd, int lines)
{
    char buf[4096];

    while (lines > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n <= 0) {
            fprintf(stderr, "read: %s\n", n ? strerror(errno) : "closed");
            exit(1);
        }
        for (ssize_t i = 0; i < n; i++)
            lines -= buf[i] == '\n';
    }
}

static gpointer client_main(gpointer data)
{
    struct client *c = data;
    static const char neg[] = "{\"execute\":\"qmp_capabilities\"}";
    static const char req[] = "{\"execute\":\"query-status\",\"arguments\":{\"vm\":\"bench\"}}";
    int fd = connect_to();

    read_lines(fd, 1);
    if (write(fd, neg, sizeof(neg) - 1) < 0)
        exit(1);
    read_lines(fd, 1);
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        g_usleep(1000);
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        if (write(fd, req, sizeof(req) - 1) < 0)
            exit(1);
        read_lines(fd, 1);
        c->trips++;
    }
    close(fd);
    return NULL;
}

/* Negotiated and ready on a fresh connection. */
static int connect_ready(void)
{
    static const char neg[] = "{\"execute\":\"qmp_capabilities\"}";
    int fd = connect_to();

    read_lines(fd, 1);
    if (write(fd, neg, sizeof(neg) - 1) < 0)
        exit(1);
    read_lines(fd, 1);
    return fd;
}

struct listener {
    GThread *thread;
    int fd;
    unsigned long events;     /* atomic */
};

/* Counts event lines until told to stop (polling, so it notices). */
static gpointer listener_main(gpointer data)
{
    struct listener *l = data;
    char buf[65536];

    for (;;) {
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 100) == 0) {
            if (__atomic_load_n(&done, __ATOMIC_ACQUIRE) == 2)
                break;
            continue;
        }
        n = read(l->fd, buf, sizeof(buf));
        if (n <= 0) {
            fprintf(stderr, "listener: %s\n", n ? strerror(errno) : "closed");
            exit(1);
        }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\n')
                __atomic_add_fetch(&l->events, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Sends @req and reads until its reply (events skipped); the events seen. */
static unsigned request(int fd, const char *req)
{
    char line[4096];
    size_t len = 0;
    unsigned events = 0;

    if (write(fd, req, strlen(req)) < 0)
        exit(1);
    for (;;) {
        ssize_t n = read(fd, line + len, 1);

        if (n <= 0)
            exit(1);
        if (line[len] != '\n') {
            len = len + 1 < sizeof(line) ? len + 1 : len;
            continue;
        }
        line[len] = 0;
        len = 0;
        if (!strstr(line, "\"event\""))
            return events;
        events++;
    }
}

/* Events per second delivered to @nlisteners clients while one more
 * alternates stop and cont for @seconds. */
static double run_events(unsigned nlisteners, double seconds, bool *lossless)
{
    struct listener *l = g_new0(struct listener, nlisteners);
    unsigned long emitted = 0, total = 0;
    int driver = connect_ready();
    gint64 t0, t1;

    done = 0;
    for (unsigned i = 0; i < nlisteners; i++) {
        l[i].fd = connect_ready();
        l[i].thread = g_thread_new("listener", listener_main, &l[i]);
    }
    t0 = g_get_monotonic_time();
    t1 = t0 + seconds * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < t1) {
        request(driver, "{\"execute\":\"stop\",\"arguments\":{\"vm\":\"bench\"}}");
        request(driver, "{\"execute\":\"cont\",\"arguments\":{\"vm\":\"bench\"}}");
        emitted += 2;
    }
    /* Every event is on its way once its command's reply is: wait for the
     * listeners to have them all (bounded), then stop them. */
    for (int wait = 0; wait < 500; wait++) {
        unsigned i;

        for (i = 0; i < nlisteners && __atomic_load_n(&l[i].events, __ATOMIC_RELAXED) >= emitted; i++)
            ;
        if (i == nlisteners)
            break;
        g_usleep(10000);
    }
    t1 = g_get_monotonic_time();
    __atomic_store_n(&done, 2, __ATOMIC_RELEASE);
    *lossless = true;
    for (unsigned i = 0; i < nlisteners; i++) {
        g_thread_join(l[i].thread);
        close(l[i].fd);
        total += l[i].events;
        *lossless = *lossless && l[i].events == emitted;
    }
    close(driver);
    g_free(l);
    return total / ((t1 - t0) / 1e6);
}

static gpointer server_main(gpointer data)
{
    GMainLoop *loop = data;

    g_main_context_push_thread_default(g_main_loop_get_context(loop));
    g_main_loop_run(loop);
    return NULL;
}

static double run(unsigned nclients, double seconds)
{
    struct client *c = g_new0(struct client, nclients);
    unsigned long total = 0;
    gint64 t0, t1;

    go = done = 0;
    for (unsigned i = 0; i < nclients; i++)
        c[i].thread = g_thread_new("client", client_main, &c[i]);
    g_usleep(200000);
    t0 = g_get_monotonic_time();
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    g_usleep(seconds * G_USEC_PER_SEC);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    t1 = g_get_monotonic_time();
    for (unsigned i = 0; i < nclients; i++) {
        g_thread_join(c[i].thread);
        total += c[i].trips;
    }
    g_free(c);
    return total / ((t1 - t0) / 1e6);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    struct manager m;
    struct vmm_config cfg;
    GError *err = NULL;
    GMainLoop *loop;
    struct qmp_server *srv;

    snprintf(sock_path, sizeof(sock_path), "/tmp/vmm-bench-%d.sock", (int)getpid());
    /* The server runs on the default context, in its own thread. */
    manager_init(&m, &fake_backend, NULL);
    config_init(&cfg);
    if (!config_load_text(&cfg, "[boot]\nfirmware = \"hello\"\n", "bench", &err) ||
        !manager_create(&m, "bench", &cfg, 0, &err) ||
        !(srv = qmp_server_new(&m, sock_path, &err))) {
        fprintf(stderr, "bench: %s\n", err->message);
        return 1;
    }
    config_clear(&cfg);
    loop = g_main_loop_new(NULL, FALSE);
    g_thread_new("server", server_main, loop);
    printf("query-status round trips per second (%.0f s each)\n", seconds);
    printf("1 client: %.0f/s\n", run(1, seconds));
    printf("16 clients: %.0f/s (total)\n", run(16, seconds));
    {
        int fd = connect_ready();
        bool lossless;
        double rate;

        request(fd, "{\"execute\":\"vm-start\",\"arguments\":{\"vm\":\"bench\"}}");
        close(fd);
        rate = run_events(16, seconds, &lossless);
        printf("events to 16 listening clients: %.0f/s delivered (total), %s\n", rate,
               lossless ? "every client got every event" : "SOME EVENTS LOST");
        if (!lossless)
            return 1;
    }
    unlink(sock_path);
    return 0;
}
