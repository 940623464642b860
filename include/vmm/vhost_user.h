/*
 * A vhost-user frontend: vmm's side of the protocol a device backend
 * running as another process (virtiofsd) speaks over a Unix stream socket,
 * with file descriptors passed alongside (SCM_RIGHTS): the features, guest
 * memory as shared fds, and for each virtqueue its size, addresses, start
 * index and the two eventfds (kick, call) that replace vmm's own handling.
 *
 * The backend is another program, so everything it sends is hostile
 * input: each reply's request code, flags and size are checked, stray fds
 * are closed, and every wait is bounded (vu->timeout_ms, 5 s by default):
 * a backend that does not answer is an error, never a hang. A backend that
 * died gives an error (EPIPE), never SIGPIPE. After the first error the
 * connection is broken: the stream may be out of step, so every later
 * call fails at once with the same message.
 */
#ifndef VMM_VHOST_USER_H
#define VMM_VHOST_USER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Request codes (the vhost-user spec's front-end messages). */
enum {
    VHOST_USER_GET_FEATURES = 1,
    VHOST_USER_SET_FEATURES = 2,
    VHOST_USER_SET_OWNER = 3,
    VHOST_USER_SET_MEM_TABLE = 5,
    VHOST_USER_SET_VRING_NUM = 8,
    VHOST_USER_SET_VRING_ADDR = 9,
    VHOST_USER_SET_VRING_BASE = 10,
    VHOST_USER_GET_VRING_BASE = 11,
    VHOST_USER_SET_VRING_KICK = 12,
    VHOST_USER_SET_VRING_CALL = 13,
    VHOST_USER_GET_PROTOCOL_FEATURES = 15,
    VHOST_USER_SET_PROTOCOL_FEATURES = 16,
    VHOST_USER_SET_VRING_ENABLE = 18,
};

#define VHOST_USER_VERSION         0x1
#define VHOST_USER_VERSION_MASK    0x3
#define VHOST_USER_REPLY           (1u << 2)
#define VHOST_USER_NEED_REPLY      (1u << 3)
#define VHOST_USER_HEADER_SIZE     12
#define VHOST_USER_MAX_REGIONS     8
/* The feature bit that says the backend has protocol features. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_TIMEOUT_MS      5000

struct vhost_user {
    int fd;                  /* the connected socket (the caller's; not closed here) */
    char *name;              /* for messages: "share TAG" */
    unsigned timeout_ms;     /* each message's bound */
    uint64_t features;       /* what GET_FEATURES answered */
    uint64_t protocol;       /* the protocol features agreed */
    char *broken;            /* the first error's message; NULL while sound */
};

/* One region of guest memory, shared by @fd from @offset. */
struct vhost_user_region {
    uint64_t gpa, size;
    uint64_t hva;            /* where vmm maps it: ring addresses are in this space */
    uint64_t offset;         /* into @fd */
    int fd;
};

void vhost_user_init(struct vhost_user *vu, int fd, const char *name);
void vhost_user_clear(struct vhost_user *vu);

/* GET_FEATURES, then with protocol features GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES (REPLY_ACK when offered), then SET_OWNER. The
 * backend's features are in vu->features afterwards. */
bool vhost_user_connect(struct vhost_user *vu, GError **error);
/* SET_FEATURES: @features (the driver's), plus PROTOCOL_FEATURES when
 * the backend has it. */
bool vhost_user_set_features(struct vhost_user *vu, uint64_t features, GError **error);
bool vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r,
                              unsigned n, GError **error);
/* Queue @index: its size, ring addresses (vmm's virtual addresses), the
 * index to start from, its eventfds, and enabling it. */
bool vhost_user_set_vring_num(struct vhost_user *vu, unsigned index, unsigned num,
                              GError **error);
bool vhost_user_set_vring_addr(struct vhost_user *vu, unsigned index, uint64_t desc,
                               uint64_t used, uint64_t avail, GError **error);
bool vhost_user_set_vring_base(struct vhost_user *vu, unsigned index, unsigned base,
                               GError **error);
bool vhost_user_set_vring_kick(struct vhost_user *vu, unsigned index, int fd, GError **error);
bool vhost_user_set_vring_call(struct vhost_user *vu, unsigned index, int fd, GError **error);
bool vhost_user_set_vring_enable(struct vhost_user *vu, unsigned index, bool enable,
                                 GError **error);
/* Stops queue @index: once it answers, the backend no longer touches the
 * ring; @base is the next index it would have taken. */
bool vhost_user_get_vring_base(struct vhost_user *vu, unsigned index, unsigned *base,
                               GError **error);

#endif
