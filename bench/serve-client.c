/*
 * serve-client: a control-socket client of vmm serve that times what
 * bench/workers-in-bed.sh needs, one figure per run, as a line
 *   BENCH <label> key=value...
 * It talks to the real Unix socket from a process of its own, as any
 * client does. Plain libc (built statically by bench/run-workers, so it
 * needs nothing from the nested test bed's root).
 *
 *   serve-client SOCK firstline LABEL NAME CONFIG FIFO
 *       opens FIFO (the VM's console file, a named pipe), sends
 *       vm-create NAME CONFIG (a JSON object) start=true and records the
 *       time to its reply (create_us) and to the first '\n' the guest's
 *       console writes to FIFO (first_line_us), both from just before the
 *       request; then vm-destroy NAME (destroy_us, to its reply).
 *   serve-client SOCK rate LABEL SECONDS REQUEST
 *       sends REQUEST (one QMP command as JSON), waits for its reply, and
 *       again, for SECONDS: trips and trips per second. The first reply
 *       must be a "return", or nothing is printed and the status is 1.
 *
 * Events may arrive between replies: lines with "event" are skipped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A reply longer than this is not one the bench asks for. */
#define LINE_MAX_BYTES 65536
/* How long any one wait may take in the emulated bed before giving up. */
#define WAIT_MS 120000

struct conn {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t len;
};

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "serve-client: %s\n", what);
    exit(1);
}

static void send_all(struct conn *c, const char *text)
{
    size_t len = strlen(text), off = 0;

    while (off < len) {
        ssize_t n = write(c->fd, text + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("cannot write to the socket");
        off += n;
    }
}

/* The next line from the server into @line (NUL-terminated, without its
 * CRLF); dies when the server closes or a line does not fit. */
static void read_line(struct conn *c, char *line)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);

        if (nl) {
            size_t n = nl - c->buf;

            memcpy(line, c->buf, n);
            line[n] = 0;
            if (n && line[n - 1] == '\r')
                line[n - 1] = 0;
            c->len -= n + 1;
            memmove(c->buf, nl + 1, c->len);
            return;
        }
        if (c->len == sizeof(c->buf))
            die("a line from the server is too long");
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        if (poll(&p, 1, WAIT_MS) <= 0)
            die("no answer from the server");
        ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("the server closed the connection");
        c->len += n;
    }
}

/* The reply to the last request, events skipped: 1 for a return, 0 for
 * an error (printed). */
static int read_reply(struct conn *c)
{
    static char line[LINE_MAX_BYTES];

    for (;;) {
        read_line(c, line);
        if (strncmp(line, "{\"return\"", 9) == 0)
            return 1;
        if (strncmp(line, "{\"error\"", 8) == 0) {
            fprintf(stderr, "serve-client: %s\n", line);
            return 0;
        }
        if (!strstr(line, "\"event\""))
            die("an answer that is neither a reply nor an event");
    }
}

static void connect_to(struct conn *c, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    static char line[LINE_MAX_BYTES];

    if (strlen(path) >= sizeof(sa.sun_path))
        die("socket path too long");
    strcpy(sa.sun_path, path);
    c->len = 0;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("cannot connect to the socket");
    read_line(c, line); /* the greeting */
    if (!strstr(line, "\"QMP\""))
        die("no QMP greeting");
    send_all(c, "{\"execute\":\"qmp_capabilities\"}");
    if (!read_reply(c))
        die("qmp_capabilities failed");
}

/* Waits for a '\n' on @fd; the time it came, or -1 after WAIT_MS. */
static long long first_line(int fd)
{
    char buf[4096];
    long long end = now_us() + WAIT_MS * 1000LL;

    for (;;) {
        long long left = (end - now_us()) / 1000;
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0 && memchr(buf, '\n', n))
            return now_us();
        if (n == 0)
            return -1;
    }
}

static int cmd_firstline(struct conn *c, char **argv)
{
    const char *label = argv[0], *name = argv[1], *config = argv[2], *fifo = argv[3];
    char *req;
    long long t0, created, line, destroyed;
    int fd, ok;

    /* Read and write: the FIFO always has a writer (this one), so reads
     * block until the guest prints rather than see an end of file, and
     * vmm's non-blocking open for writing finds a reader. */
    fd = open(fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("cannot open the console FIFO");
    if (asprintf(&req, "{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"%s\",\"config\":%s,"
                 "\"start\":true}}", name, config) < 0)
        die("out of memory");
    t0 = now_us();
    send_all(c, req);
    ok = read_reply(c);
    created = now_us();
    free(req);
    if (!ok)
        return 1;
    line = first_line(fd);
    if (asprintf(&req, "{\"execute\":\"vm-destroy\",\"arguments\":{\"vm\":\"%s\"}}", name) < 0)
        die("out of memory");
    destroyed = now_us();
    send_all(c, req);
    ok = read_reply(c);
    destroyed = now_us() - destroyed;
    free(req);
    close(fd);
    printf("BENCH %s create_us=%lld first_line_us=%lld destroy_us=%lld\n", label, created - t0,
           line < 0 ? -1 : line - t0, ok ? destroyed : -1);
    return line < 0 || !ok;
}

static int cmd_rate(struct conn *c, char **argv)
{
    const char *label = argv[0], *req = argv[2];
    double seconds = atof(argv[1]);
    long long t0, end, t;
    unsigned long trips = 0;

    if (seconds <= 0 || seconds > 600)
        die("SECONDS must be above 0 and at most 600");
    send_all(c, req); /* the first trip: warms up, and checks the request */
    if (!read_reply(c))
        return 1;
    t0 = now_us();
    end = t0 + (long long)(seconds * 1e6);
    do {
        send_all(c, req);
        if (!read_reply(c))
            return 1;
        trips++;
        t = now_us();
    } while (t < end);
    printf("BENCH %s trips=%lu us=%lld per_s=%.0f\n", label, trips, t - t0,
           trips * 1e6 / (t - t0));
    return 0;
}

int main(int argc, char **argv)
{
    static struct conn c;
    int st;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 7 && strcmp(argv[2], "firstline") == 0) {
        connect_to(&c, argv[1]);
        st = cmd_firstline(&c, argv + 3);
    } else if (argc == 6 && strcmp(argv[2], "rate") == 0) {
        connect_to(&c, argv[1]);
        st = cmd_rate(&c, argv + 3);
    } else {
        fprintf(stderr, "usage: serve-client SOCK firstline LABEL NAME CONFIG FIFO\n"
                        "       serve-client SOCK rate LABEL SECONDS REQUEST\n");
        return 2;
    }
    close(c.fd);
    return st;
}
