/*
 * The vhost-user frontend against a fake backend on a socketpair: the
 * good exchange (features, protocol features, acknowledgements, fds
 * passed with the memory table and the eventfds), then a backend that
 * answers short, wrong, oversized, not at all, refuses, or has died.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vhost_user.h"

struct fake {
    int fd;
    void (*serve)(struct fake *f);
    GThread *thread;
    /* What it saw. */
    uint32_t requests[32];
    unsigned nr_requests;
    uint64_t features_set, protocol_set;
    int mem_fd_inode_ok;      /* the fd it got with SET_MEM_TABLE is the region's */
    ino_t region_inode;
    unsigned fds_received;
};

struct msg {
    uint32_t request, flags, size;
    uint8_t payload[512];
    int fds[8];
    unsigned nr_fds;
};

/* One whole message from the frontend; false at end of stream. */
static bool read_msg(struct fake *f, struct msg *m)
{
    uint8_t buf[12 + 512];
    size_t done = 0, want = 12;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 8)];
    } control;

    m->nr_fds = 0;
    while (done < want) {
        struct iovec iov = { buf + done, want - done };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(f->fd, &msg, 0);

        if (n <= 0)
            return false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            unsigned nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            memcpy(m->fds + m->nr_fds, CMSG_DATA(c), nr * sizeof(int));
            m->nr_fds += nr;
        }
        done += n;
        if (done >= 12 && want == 12) {
            memcpy(&m->request, buf, 4);
            memcpy(&m->flags, buf + 4, 4);
            memcpy(&m->size, buf + 8, 4);
            ck_assert_uint_le(m->size, 512);
            want = 12 + m->size;
        }
    }
    memcpy(m->payload, buf + 12, m->size);
    f->requests[f->nr_requests++ % 32] = m->request;
    f->fds_received += m->nr_fds;
    return true;
}

static void send_raw(struct fake *f, uint32_t request, uint32_t flags, const void *payload,
                     uint32_t size)
{
    uint8_t buf[12 + 4096];
    uint32_t h[3] = { request, flags, size };

    memcpy(buf, h, 12);
    if (size)
        memcpy(buf + 12, payload, MIN(size, 4096));
    ck_assert_int_eq(send(f->fd, buf, 12 + MIN(size, 4096), MSG_NOSIGNAL),
                     12 + MIN(size, 4096));
}

static void reply_u64(struct fake *f, uint32_t request, uint64_t v)
{
    send_raw(f, request, VHOST_USER_VERSION | VHOST_USER_REPLY, &v, 8);
}

/* A good backend: features with PROTOCOL_FEATURES, protocol features
 * with REPLY_ACK and more, an acknowledgement for every message that asks. */
static void serve_good(struct fake *f)
{
    struct msg m;

    while (read_msg(f, &m)) {
        switch (m.request) {
        case VHOST_USER_GET_FEATURES:
            reply_u64(f, m.request, (1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
            break;
        case VHOST_USER_GET_PROTOCOL_FEATURES:
            reply_u64(f, m.request, 0x1f);
            break;
        case VHOST_USER_SET_PROTOCOL_FEATURES:
            memcpy(&f->protocol_set, m.payload, 8);
            ck_assert(!(m.flags & VHOST_USER_NEED_REPLY));
            break;
        case VHOST_USER_SET_FEATURES:
            memcpy(&f->features_set, m.payload, 8);
            break;
        case VHOST_USER_SET_MEM_TABLE: {
            struct stat st;

            ck_assert_uint_eq(m.nr_fds, 1);
            ck_assert_uint_eq(m.size, 8 + 32);
            ck_assert_int_eq(fstat(m.fds[0], &st), 0);
            f->mem_fd_inode_ok = st.st_ino == f->region_inode;
            break;
        }
        case VHOST_USER_GET_VRING_BASE: {
            uint32_t s[2];

            memcpy(s, m.payload, 8);
            s[1] = 42;
            send_raw(f, m.request, VHOST_USER_VERSION | VHOST_USER_REPLY, s, 8);
            break;
        }
        }
        for (unsigned i = 0; i < m.nr_fds; i++)
            close(m.fds[i]);
        if (m.flags & VHOST_USER_NEED_REPLY)
            reply_u64(f, m.request, 0);
    }
}

static gpointer fake_thread(gpointer data)
{
    struct fake *f = data;

    f->serve(f);
    close(f->fd);
    return NULL;
}

static void fake_start(struct fake *f, void (*serve)(struct fake *), struct vhost_user *vu)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    memset(f, 0, sizeof(*f));
    f->fd = sv[1];
    f->serve = serve;
    vhost_user_init(vu, sv[0], "share t");
    vu->timeout_ms = 300;
    f->thread = g_thread_new("fake", fake_thread, f);
}

static void fake_stop(struct fake *f, struct vhost_user *vu)
{
    close(vu->fd);
    g_thread_join(f->thread);
    vhost_user_clear(vu);
}

START_TEST(good)
{
    struct fake f;
    struct vhost_user vu;
    GError *err = NULL;
    int mfd = memfd_create("ram", MFD_CLOEXEC), kick = eventfd(0, EFD_CLOEXEC);
    struct stat st;
    unsigned base = 0;

    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, 1 << 20), 0);
    ck_assert_int_eq(fstat(mfd, &st), 0);
    fake_start(&f, serve_good, &vu);
    f.region_inode = st.st_ino;
    ck_assert_msg(vhost_user_connect(&vu, &err), "%s", err ? err->message : "");
    ck_assert_uint_eq(vu.features, (1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    ck_assert_uint_eq(vu.protocol, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
    ck_assert(vhost_user_set_features(&vu, 1ull << 32, &err));
    {
        struct vhost_user_region r = { .gpa = 0x40000000, .size = 1 << 20, .hva = 0x7000,
                                       .fd = mfd };

        ck_assert_msg(vhost_user_set_mem_table(&vu, &r, 1, &err), "%s",
                      err ? err->message : "");
    }
    ck_assert(vhost_user_set_vring_num(&vu, 0, 128, &err));
    ck_assert(vhost_user_set_vring_addr(&vu, 0, 0x1000, 0x2000, 0x3000, &err));
    ck_assert(vhost_user_set_vring_base(&vu, 0, 0, &err));
    ck_assert(vhost_user_set_vring_kick(&vu, 0, kick, &err));
    ck_assert(vhost_user_set_vring_call(&vu, 0, kick, &err));
    ck_assert(vhost_user_set_vring_enable(&vu, 0, true, &err));
    ck_assert(vhost_user_get_vring_base(&vu, 0, &base, &err));
    ck_assert_uint_eq(base, 42);
    fake_stop(&f, &vu);
    ck_assert_uint_eq(f.protocol_set, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
    /* The driver's features, and PROTOCOL_FEATURES kept. */
    ck_assert_uint_eq(f.features_set, (1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    ck_assert(f.mem_fd_inode_ok);
    ck_assert_uint_eq(f.fds_received, 3); /* memory, kick, call */
    ck_assert_uint_eq(f.requests[3], VHOST_USER_SET_OWNER);
    close(mfd);
    close(kick);
}
END_TEST

/* A backend without protocol features: no acknowledgements asked. */
static void serve_plain(struct fake *f)
{
    struct msg m;

    while (read_msg(f, &m)) {
        ck_assert(!(m.flags & VHOST_USER_NEED_REPLY));
        ck_assert_uint_ne(m.request, VHOST_USER_GET_PROTOCOL_FEATURES);
        if (m.request == VHOST_USER_GET_FEATURES)
            reply_u64(f, m.request, 1ull << 32);
    }
}

START_TEST(no_protocol_features)
{
    struct fake f;
    struct vhost_user vu;
    GError *err = NULL;

    fake_start(&f, serve_plain, &vu);
    ck_assert(vhost_user_connect(&vu, &err));
    ck_assert_uint_eq(vu.protocol, 0);
    ck_assert(vhost_user_set_vring_num(&vu, 1, 64, &err));
    fake_stop(&f, &vu);
    ck_assert_uint_eq(f.nr_requests, 3);
}
END_TEST

/* Each bad answer to GET_FEATURES, and the message it gives. */
static int bad_kind;

static void serve_bad(struct fake *f)
{
    struct msg m;
    uint8_t big[4096] = { 0 };
    uint64_t v = 1;

    if (!read_msg(f, &m))
        return;
    switch (bad_kind) {
    case 0: /* an empty reply */
        send_raw(f, m.request, VHOST_USER_VERSION | VHOST_USER_REPLY, NULL, 0);
        break;
    case 1: /* another request's reply */
        send_raw(f, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY, &v, 8);
        break;
    case 2: /* no REPLY flag */
        send_raw(f, m.request, VHOST_USER_VERSION, &v, 8);
        break;
    case 3: /* version 2 */
        send_raw(f, m.request, 2 | VHOST_USER_REPLY, &v, 8);
        break;
    case 4: /* oversized */
        send_raw(f, m.request, VHOST_USER_VERSION | VHOST_USER_REPLY, big, sizeof(big));
        break;
    case 5: /* short: 4 bytes where 8 are due */
        send_raw(f, m.request, VHOST_USER_VERSION | VHOST_USER_REPLY, &v, 4);
        break;
    case 6: /* no reply at all, and the socket stays open */
        g_usleep(600 * 1000);
        break;
    case 7: /* garbage */
        ck_assert_int_eq(send(f->fd, "garbage garbage garbage", 23, MSG_NOSIGNAL), 23);
        break;
    case 8: /* an fd nobody asked for, with an otherwise good reply */
    {
        int fd = eventfd(0, EFD_CLOEXEC);
        uint32_t h[3] = { m.request, VHOST_USER_VERSION | VHOST_USER_REPLY, 8 };
        uint8_t buf[20];
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { buf, 20 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

        memcpy(buf, h, 12);
        memcpy(buf + 12, &v, 8);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        ck_assert_int_eq(sendmsg(f->fd, &msg, MSG_NOSIGNAL), 20);
        close(fd);
        break;
    }
    }
}

START_TEST(bad_replies)
{
    static const char *const expect[] = {
        "share t: vhost-user GET_FEATURES: the reply has 0 bytes of payload (8 expected)",
        "share t: vhost-user GET_FEATURES: the reply is to request 11",
        "share t: vhost-user GET_FEATURES: the reply has flags 0x1 (version 1 and REPLY expected)",
        "share t: vhost-user GET_FEATURES: the reply has flags 0x6 (version 1 and REPLY expected)",
        "share t: vhost-user GET_FEATURES: the reply has 4096 bytes of payload (8 expected)",
        "share t: vhost-user GET_FEATURES: the reply has 4 bytes of payload (8 expected)",
        "share t: vhost-user GET_FEATURES: the backend did not answer within 300 ms",
        "share t: vhost-user GET_FEATURES: the reply is to request 1651663207",
    };
    static const char *const cut =
        "share t: vhost-user GET_FEATURES: the backend closed the connection in the middle "
        "of a reply";

    for (bad_kind = 0; bad_kind < (int)G_N_ELEMENTS(expect); bad_kind++) {
        struct fake f;
        struct vhost_user vu;
        GError *err = NULL;
        int64_t t0 = g_get_monotonic_time();

        fake_start(&f, serve_bad, &vu);
        ck_assert(!vhost_user_connect(&vu, &err));
        ck_assert_str_eq(err->message, expect[bad_kind]);
        ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
        g_clear_error(&err);
        /* Broken from here on: the next call fails at once with the same words. */
        ck_assert(!vhost_user_set_vring_num(&vu, 0, 8, &err));
        ck_assert_str_eq(err->message, expect[bad_kind]);
        g_clear_error(&err);
        fake_stop(&f, &vu);
    }
    /* A reply cut short: its header says 8 bytes, 3 come, then the end. */
    {
        struct vhost_user vu;
        GError *err = NULL;
        uint32_t h[3] = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION | VHOST_USER_REPLY, 8 };
        int sv[2];

        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ck_assert_int_eq(write(sv[1], h, 12), 12);
        ck_assert_int_eq(write(sv[1], "abc", 3), 3);
        shutdown(sv[1], SHUT_WR); /* the end of its replies; the request still goes in */
        vhost_user_init(&vu, sv[0], "share t");
        ck_assert(!vhost_user_connect(&vu, &err));
        ck_assert_str_eq(err->message, cut);
        g_clear_error(&err);
        close(sv[0]);
        close(sv[1]);
        vhost_user_clear(&vu);
    }
    /* A stray fd is closed, and the reply itself is taken. */
    {
        struct fake f;
        struct vhost_user vu;
        GError *err = NULL;
        int before, after;

        bad_kind = 8;
        before = dup(0);
        close(before);
        fake_start(&f, serve_bad, &vu);
        /* The fake stops after one reply: SET_OWNER may or may not reach it. */
        (void)vhost_user_connect(&vu, &err);
        g_clear_error(&err);
        ck_assert_uint_eq(vu.features, 1);
        fake_stop(&f, &vu);
        after = dup(0);
        close(after);
        ck_assert_int_eq(before, after); /* nothing leaked */
    }
}
END_TEST

/* A refusal (a non-zero acknowledgement). */
static void serve_refuse(struct fake *f)
{
    struct msg m;

    while (read_msg(f, &m)) {
        if (m.request == VHOST_USER_GET_FEATURES)
            reply_u64(f, m.request, 1ull << VHOST_USER_F_PROTOCOL_FEATURES);
        else if (m.request == VHOST_USER_GET_PROTOCOL_FEATURES)
            reply_u64(f, m.request, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
        else if (m.flags & VHOST_USER_NEED_REPLY)
            reply_u64(f, m.request, m.request == VHOST_USER_SET_VRING_NUM ? 1 : 0);
    }
}

START_TEST(refused)
{
    struct fake f;
    struct vhost_user vu;
    GError *err = NULL;

    fake_start(&f, serve_refuse, &vu);
    ck_assert(vhost_user_connect(&vu, &err));
    ck_assert(!vhost_user_set_vring_num(&vu, 0, 4096, &err));
    ck_assert_str_eq(err->message,
                     "share t: vhost-user SET_VRING_NUM: the backend refused it (status 1)");
    g_clear_error(&err);
    fake_stop(&f, &vu);
}
END_TEST

/* A backend that died: an error, not SIGPIPE (which would end this test). */
static void serve_die(struct fake *f)
{
}

START_TEST(dead_backend)
{
    struct fake f;
    struct vhost_user vu;
    GError *err = NULL;

    signal(SIGPIPE, SIG_DFL);
    fake_start(&f, serve_die, &vu);
    g_thread_join(f.thread);
    ck_assert(!vhost_user_connect(&vu, &err));
    ck_assert_str_eq(err->message, "share t: vhost-user GET_FEATURES: the backend has gone "
                     "(its socket is closed)");
    g_clear_error(&err);
    close(vu.fd);
    vhost_user_clear(&vu);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vhost_user");
    TCase *tc = tcase_create("frontend");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, good);
    tcase_add_test(tc, no_protocol_features);
    tcase_add_test(tc, bad_replies);
    tcase_add_test(tc, refused);
    tcase_add_test(tc, dead_backend);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
