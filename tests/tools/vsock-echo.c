/*
 * vsock-echo: an AF_VSOCK echo for tests/integration/linux-vsock.sh, on
 * the host (the bed) and in the guest alike. Test-only: not installed.
 *
 *   vsock-echo listen PORT [FILE]
 *       listens on PORT (any CID), prints "vsock-echo: listening on port
 *       PORT" once it does, serves one connection: sends back every byte
 *       it receives (and writes it to FILE) until the peer shuts its side,
 *       then prints "vsock-echo: echoed N bytes" and ends.
 *   vsock-echo connect CID PORT
 *       connects to CID:PORT, sends its standard input, writes what comes
 *       back to its standard output until the peer closes, and ends 0 when
 *       it got back as many bytes as it sent.
 *
 * The test compares checksums of the payload, of what came back and of
 * FILE. Sending and receiving are interleaved (poll), so a payload larger
 * than the sockets' buffers cannot deadlock against the echo.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* after sys/socket.h: it uses struct sockaddr */
#include <linux/vm_sockets.h>
#include <unistd.h>

#define BUF 65536

static int die(const char *what)
{
    fprintf(stderr, "vsock-echo: %s: %s\n", what, strerror(errno));
    return 1;
}

static int parse(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;

    errno = 0;
    *v = strtoull(s, &end, 0);
    return !*s || *end || errno || *v > max ? -1 : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= w;
    }
    return 0;
}

static int listen_once(unsigned port, const char *file)
{
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
                             .svm_port = port };
    static unsigned char buf[BUF];
    uint64_t total = 0;
    int s = socket(AF_VSOCK, SOCK_STREAM, 0), c, f = -1;

    if (file && (f = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        return die(file);
    if (s < 0)
        return die("socket");
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        return die("bind");
    if (listen(s, 1) < 0)
        return die("listen");
    printf("vsock-echo: listening on port %u\n", port);
    fflush(stdout);
    c = accept(s, NULL, NULL);
    if (c < 0)
        return die("accept");
    for (;;) {
        ssize_t r = read(c, buf, sizeof(buf));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return die("read");
        if (r == 0)
            break;
        total += r;
        if (write_all(c, buf, r) < 0)
            return die("write");
        if (f >= 0 && write_all(f, buf, r) < 0)
            return die(file);
    }
    close(c);
    close(s);
    if (f >= 0 && close(f) < 0)
        return die(file);
    printf("vsock-echo: echoed %" PRIu64 " bytes\n", total);
    return 0;
}

static int connect_once(unsigned cid, unsigned port)
{
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
    static unsigned char out[BUF], in[BUF];
    size_t have = 0, at = 0;
    uint64_t sent = 0, got = 0;
    int in_open = 1, s = socket(AF_VSOCK, SOCK_STREAM, 0);

    if (s < 0)
        return die("socket");
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        return die("connect");
    for (;;) {
        struct pollfd p[2] = {
            { .fd = in_open && have == at ? 0 : -1, .events = POLLIN },
            { .fd = s, .events = POLLIN | (have > at ? POLLOUT : 0) },
        };
        ssize_t r;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return die("poll");
        }
        if (p[0].revents) {
            r = read(0, out, sizeof(out));
            if (r < 0 && errno != EINTR)
                return die("read standard input");
            if (r == 0) {
                in_open = 0;
                if (shutdown(s, SHUT_WR) < 0)
                    return die("shutdown");
            } else if (r > 0) {
                have = r;
                at = 0;
            }
        }
        if (p[1].revents & POLLOUT) {
            r = send(s, out + at, have - at, MSG_DONTWAIT);
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                return die("send");
            if (r > 0) {
                at += r;
                sent += r;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            r = recv(s, in, sizeof(in), MSG_DONTWAIT);
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                return die("recv");
            if (r == 0)
                break;
            if (r > 0) {
                got += r;
                if (write_all(1, in, r) < 0)
                    return die("write standard output");
            }
        }
    }
    close(s);
    if (in_open || got != sent) {
        fprintf(stderr, "vsock-echo: sent %" PRIu64 " bytes%s, got %" PRIu64 " back\n", sent,
                in_open ? " (not all of its input)" : "", got);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long cid, port;

    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "listen") &&
        !parse(argv[2], UINT32_MAX, &port))
        return listen_once(port, argc == 4 ? argv[3] : NULL);
    if (argc == 4 && !strcmp(argv[1], "connect") && !parse(argv[2], UINT32_MAX, &cid) &&
        !parse(argv[3], UINT32_MAX, &port))
        return connect_once(cid, port);
    fprintf(stderr, "usage: vsock-echo listen PORT [FILE] | vsock-echo connect CID PORT\n");
    return 2;
}
