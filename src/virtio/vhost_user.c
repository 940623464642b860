/*
 * The vhost-user frontend (vmm/vhost_user.h). Messages are a 12-byte
 * header (request, flags, payload size) and a payload; a request that
 * has no reply of its own gets an acknowledgement (a u64, 0 for success)
 * when REPLY_ACK was agreed, so that a backend's refusal is seen at the
 * message that caused it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/vhost_user.h"

struct vu_header {
    uint32_t request, flags, size;
} __attribute__((packed));

struct vu_state {
    uint32_t index, num;
};

struct vu_addr {
    uint32_t index, flags;
    uint64_t desc, used, avail, log;
};

struct vu_mem_region {
    uint64_t gpa, size, uaddr, offset;
};

struct vu_mem {
    uint32_t nr, padding;
    struct vu_mem_region r[VHOST_USER_MAX_REGIONS];
};

/* The largest payload vmm sends or accepts. */
#define VU_PAYLOAD_MAX sizeof(struct vu_mem)

static const char *request_name(uint32_t request)
{
    switch (request) {
    case VHOST_USER_GET_FEATURES: return "GET_FEATURES";
    case VHOST_USER_SET_FEATURES: return "SET_FEATURES";
    case VHOST_USER_SET_OWNER: return "SET_OWNER";
    case VHOST_USER_SET_MEM_TABLE: return "SET_MEM_TABLE";
    case VHOST_USER_SET_VRING_NUM: return "SET_VRING_NUM";
    case VHOST_USER_SET_VRING_ADDR: return "SET_VRING_ADDR";
    case VHOST_USER_SET_VRING_BASE: return "SET_VRING_BASE";
    case VHOST_USER_GET_VRING_BASE: return "GET_VRING_BASE";
    case VHOST_USER_SET_VRING_KICK: return "SET_VRING_KICK";
    case VHOST_USER_SET_VRING_CALL: return "SET_VRING_CALL";
    case VHOST_USER_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
    case VHOST_USER_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
    case VHOST_USER_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
    }
    return "?";
}

void vhost_user_init(struct vhost_user *vu, int fd, const char *name)
{
    *vu = (struct vhost_user){ .fd = fd, .name = g_strdup(name),
                               .timeout_ms = VHOST_USER_TIMEOUT_MS };
}

void vhost_user_clear(struct vhost_user *vu)
{
    g_free(vu->name);
    g_free(vu->broken);
    *vu = (struct vhost_user){ .fd = -1 };
}

/* Records the first failure (the connection is broken from here on) and
 * reports it. */
static bool fail(struct vhost_user *vu, uint32_t request, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static bool fail(struct vhost_user *vu, uint32_t request, GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *why = NULL;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!vu->broken)
        vu->broken = g_strdup_printf("%s: vhost-user %s: %s", vu->name, request_name(request),
                                     why);
    g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s", vu->broken);
    return false;
}

static int64_t remaining_ms(int64_t deadline)
{
    int64_t left = (deadline - g_get_monotonic_time()) / 1000;

    return left > 0 ? left : 0;
}

/* Waits for @events on the socket until @deadline: 1 ready, 0 timed out,
 * -errno. */
static int wait_for(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, (int)remaining_ms(deadline));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return 0;
        return 1;
    }
}

/* Sends one message whole, with @fds on its first byte. */
static bool send_msg(struct vhost_user *vu, uint32_t request, uint32_t flags,
                     const void *payload, uint32_t size, const int *fds, unsigned nr_fds,
                     int64_t deadline, GError **error)
{
    struct vu_header h = { request, VHOST_USER_VERSION | flags, size };
    uint8_t buf[VHOST_USER_HEADER_SIZE + VU_PAYLOAD_MAX];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
    } control;
    size_t len = VHOST_USER_HEADER_SIZE + size, done = 0;

    g_assert(size <= VU_PAYLOAD_MAX && nr_fds <= VHOST_USER_MAX_REGIONS);
    memcpy(buf, &h, sizeof(h));
    if (size)
        memcpy(buf + VHOST_USER_HEADER_SIZE, payload, size);
    while (done < len) {
        struct iovec iov = { buf + done, len - done };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;
        int r = wait_for(vu->fd, POLLOUT, deadline);

        if (r == 0)
            return fail(vu, request, error, "the backend takes no more input (waited %u ms)",
                        vu->timeout_ms);
        if (r < 0)
            return fail(vu, request, error, "poll: %s", g_strerror(-r));
        if (done == 0 && nr_fds) {
            struct cmsghdr *c;

            memset(&control, 0, sizeof(control));
            msg.msg_control = control.buf;
            msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
            memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
        }
        /* MSG_NOSIGNAL: a backend that died is EPIPE here, not SIGPIPE for vmm. */
        n = sendmsg(vu->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return fail(vu, request, error, "%s", errno == EPIPE || errno == ECONNRESET
                        ? "the backend has gone (its socket is closed)" : g_strerror(errno));
        done += n;
    }
    return true;
}

/* Reads exactly @len bytes before @deadline; fds that come with them are
 * closed (vmm asks for none). */
static bool recv_exact(struct vhost_user *vu, uint32_t request, void *buf, size_t len,
                       int64_t deadline, GError **error)
{
    size_t done = 0;

    while (done < len) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
        } control;
        struct iovec iov = { (uint8_t *)buf + done, len - done };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buf, .msg_controllen = sizeof(control) };
        ssize_t n;
        int r = wait_for(vu->fd, POLLIN, deadline);

        if (r == 0)
            return fail(vu, request, error, "the backend did not answer within %u ms",
                        vu->timeout_ms);
        if (r < 0)
            return fail(vu, request, error, "poll: %s", g_strerror(-r));
        n = recvmsg(vu->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return fail(vu, request, error, "%s", g_strerror(errno));
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                size_t nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int fds[VHOST_USER_MAX_REGIONS];

                memcpy(fds, CMSG_DATA(c), MIN(nr, G_N_ELEMENTS(fds)) * sizeof(int));
                for (size_t i = 0; i < MIN(nr, G_N_ELEMENTS(fds)); i++)
                    close(fds[i]);
            }
        }
        if (n == 0)
            return fail(vu, request, error, "the backend closed the connection%s",
                        done ? " in the middle of a reply" : "");
        done += n;
    }
    return true;
}

/* The reply to @request: exactly @size bytes of payload into @payload. */
static bool recv_reply(struct vhost_user *vu, uint32_t request, void *payload, uint32_t size,
                       int64_t deadline, GError **error)
{
    struct vu_header h;

    if (!recv_exact(vu, request, &h, sizeof(h), deadline, error))
        return false;
    if (h.request != request)
        return fail(vu, request, error, "the reply is to request %u", h.request);
    if ((h.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
        !(h.flags & VHOST_USER_REPLY))
        return fail(vu, request, error, "the reply has flags 0x%x (version 1 and REPLY "
                    "expected)", h.flags);
    if (h.size != size)
        return fail(vu, request, error, "the reply has %u bytes of payload (%u expected)",
                    h.size, size);
    return recv_exact(vu, request, payload, size, deadline, error);
}

/* One request; @reply (of @reply_size bytes) for those that have one, else
 * an acknowledgement when REPLY_ACK was agreed. */
static bool call(struct vhost_user *vu, uint32_t request, const void *payload, uint32_t size,
                 const int *fds, unsigned nr_fds, void *reply, uint32_t reply_size,
                 GError **error)
{
    int64_t deadline = g_get_monotonic_time() + (int64_t)vu->timeout_ms * 1000;
    bool ack = !reply && (vu->protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
    uint64_t status;

    if (vu->broken) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s", vu->broken);
        return false;
    }
    if (!send_msg(vu, request, ack ? VHOST_USER_NEED_REPLY : 0, payload, size, fds, nr_fds,
                  deadline, error))
        return false;
    if (reply)
        return recv_reply(vu, request, reply, reply_size, deadline, error);
    if (!ack)
        return true;
    if (!recv_reply(vu, request, &status, sizeof(status), deadline, error))
        return false;
    if (status)
        return fail(vu, request, error, "the backend refused it (status %" G_GUINT64_FORMAT ")",
                    status);
    return true;
}

static bool get_u64(struct vhost_user *vu, uint32_t request, uint64_t *value, GError **error)
{
    return call(vu, request, NULL, 0, NULL, 0, value, sizeof(*value), error);
}

static bool set_u64(struct vhost_user *vu, uint32_t request, uint64_t value, GError **error)
{
    return call(vu, request, &value, sizeof(value), NULL, 0, NULL, 0, error);
}

static bool set_state(struct vhost_user *vu, uint32_t request, unsigned index, unsigned num,
                      GError **error)
{
    struct vu_state s = { index, num };

    return call(vu, request, &s, sizeof(s), NULL, 0, NULL, 0, error);
}

bool vhost_user_connect(struct vhost_user *vu, GError **error)
{
    uint64_t offered;

    if (!get_u64(vu, VHOST_USER_GET_FEATURES, &vu->features, error))
        return false;
    if (vu->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
        uint64_t wanted = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;

        if (!get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &offered, error) ||
            !set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, offered & wanted, error))
            return false;
        /* Acknowledgements from the next message on. */
        vu->protocol = offered & wanted;
    }
    return call(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0, error);
}

bool vhost_user_set_features(struct vhost_user *vu, uint64_t features, GError **error)
{
    features |= vu->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
    return set_u64(vu, VHOST_USER_SET_FEATURES, features, error);
}

bool vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r,
                              unsigned n, GError **error)
{
    struct vu_mem m = { .nr = n };
    int fds[VHOST_USER_MAX_REGIONS];

    g_assert(n <= VHOST_USER_MAX_REGIONS);
    for (unsigned i = 0; i < n; i++) {
        m.r[i] = (struct vu_mem_region){ r[i].gpa, r[i].size, r[i].hva, r[i].offset };
        fds[i] = r[i].fd;
    }
    return call(vu, VHOST_USER_SET_MEM_TABLE, &m,
                offsetof(struct vu_mem, r) + n * sizeof(m.r[0]), fds, n, NULL, 0, error);
}

bool vhost_user_set_vring_num(struct vhost_user *vu, unsigned index, unsigned num,
                              GError **error)
{
    return set_state(vu, VHOST_USER_SET_VRING_NUM, index, num, error);
}

bool vhost_user_set_vring_addr(struct vhost_user *vu, unsigned index, uint64_t desc,
                               uint64_t used, uint64_t avail, GError **error)
{
    struct vu_addr a = { .index = index, .desc = desc, .used = used, .avail = avail };

    return call(vu, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0, error);
}

bool vhost_user_set_vring_base(struct vhost_user *vu, unsigned index, unsigned base,
                               GError **error)
{
    return set_state(vu, VHOST_USER_SET_VRING_BASE, index, base, error);
}

/* KICK and CALL: the queue's index in the low byte, the eventfd alongside. */
static bool set_vring_fd(struct vhost_user *vu, uint32_t request, unsigned index, int fd,
                         GError **error)
{
    uint64_t v = index & 0xff;

    return call(vu, request, &v, sizeof(v), &fd, 1, NULL, 0, error);
}

bool vhost_user_set_vring_kick(struct vhost_user *vu, unsigned index, int fd, GError **error)
{
    return set_vring_fd(vu, VHOST_USER_SET_VRING_KICK, index, fd, error);
}

bool vhost_user_set_vring_call(struct vhost_user *vu, unsigned index, int fd, GError **error)
{
    return set_vring_fd(vu, VHOST_USER_SET_VRING_CALL, index, fd, error);
}

bool vhost_user_set_vring_enable(struct vhost_user *vu, unsigned index, bool enable,
                                 GError **error)
{
    return set_state(vu, VHOST_USER_SET_VRING_ENABLE, index, enable, error);
}

bool vhost_user_get_vring_base(struct vhost_user *vu, unsigned index, unsigned *base,
                               GError **error)
{
    struct vu_state s = { index, 0 }, r;

    if (!call(vu, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), NULL, 0, &r, sizeof(r), error))
        return false;
    if (r.index != index)
        return fail(vu, VHOST_USER_GET_VRING_BASE, error, "the reply is for queue %u", r.index);
    *base = r.num;
    return true;
}
