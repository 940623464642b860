/*
 * The worker sandbox (src/base/sandbox.c), entered in a forked child as a
 * worker enters it: each check is made from inside, as a process taken
 * over by its guest would try. Needs root or unprivileged user namespaces
 * (skips otherwise); no KVM.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/sandbox.h"

#define NOBODY 65534
#define FILES 64

/* The child's verdicts, as bits of its exit status (0: all held). */
enum {
    HOST_FILE_OPENED = 1,
    ROOT_NOT_EMPTY = 2,
    STILL_ROOT = 4,
    HAS_CAPS = 8,
    NO_NNP = 16,
    NO_FILE_LIMIT = 32,
    LANDLOCK_LET_IT = 64,
    ENTER_FAILED = 128,
};

static int inside(void)
{
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    struct sandbox_config box = { .uid = NOBODY, .gid = NOBODY,
                                  .address_space_headroom = 256u << 20, .open_files = FILES };
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct caps[2] = { 0 };
    bool landlock = true, root = getuid() == 0;
    GError *err = NULL;
    struct rlimit rl;
    int bad = 0, fd;

    if (!sandbox_prepare(notes, &err) || !sandbox_enter(&box, notes, &err)) {
        fprintf(stderr, "sandbox: %s\n", err->message);
        return ENTER_FAILED;
    }
    for (guint i = 0; i < notes->len; i++) {
        fprintf(stderr, "note: %s\n", (char *)notes->pdata[i]);
        if (g_str_has_prefix(notes->pdata[i], "no Landlock"))
            landlock = false;
    }
    fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        bad |= HOST_FILE_OPENED;
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && landlock)
        bad |= LANDLOCK_LET_IT;
    if (root && getuid() != NOBODY)
        bad |= STILL_ROOT;
    if (syscall(SYS_capget, &hdr, caps) < 0 || caps[0].effective || caps[0].permitted ||
        caps[1].effective || caps[1].permitted)
        bad |= HAS_CAPS;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        bad |= NO_NNP;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max > FILES)
        bad |= NO_FILE_LIMIT;
    /* Without Landlock the empty root must still be empty. */
    if (!landlock && fd >= 0) {
        char buf[256];

        if (syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 48) /* "." and ".." only */
            bad |= ROOT_NOT_EMPTY;
    }
    return bad;
}

START_TEST(a_confined_process_reaches_nothing)
{
    pid_t pid = fork();
    int st;

    ck_assert_int_ge(pid, 0);
    if (!pid)
        _exit(inside());
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "the child died of signal %d", WTERMSIG(st));
    ck_assert_msg(WEXITSTATUS(st) == 0, "the sandbox failed checks 0x%x (see enum)",
                  WEXITSTATUS(st));
}
END_TEST

/* Root, or a host that allows unprivileged user namespaces. */
static bool can_sandbox(void)
{
    pid_t pid;
    int st;

    if (getuid() == 0)
        return true;
    pid = fork();
    if (!pid)
        _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("sandbox");
    SRunner *sr;
    int failed;

    if (!can_sandbox()) {
        fprintf(stderr, "skip: neither root nor unprivileged user namespaces\n");
        return 77;
    }
    tcase_add_test(tc, a_confined_process_reaches_nothing);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
