/*
 * A share's daemon: the real virtiofsd (when installed) started over its
 * socket pair, spoken to, and stopped and reaped; a missing daemon, one
 * that ends at once and a folder that is not one, each one clear line.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vmm/hw/virtiofsd.h"
#include "vmm/vhost_user.h"

static char *dir;

static void setup(void)
{
    dir = g_dir_make_tmp("vmm-vfsd-XXXXXX", NULL);
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    g_rmdir(dir);
    g_free(dir);
}

START_TEST(real_daemon)
{
    struct device_share share = { .path = dir, .tag = "t", .readonly = _i };
    struct virtiofsd d;
    struct vhost_user vu;
    GError *err = NULL;
    pid_t pid;
    int mfd;

    if (access(VIRTIOFSD_DEFAULT, X_OK) < 0 || geteuid() != 0)
        return; /* the bed and CI have it, as root */
    g_unsetenv("VMM_VIRTIOFSD");
    ck_assert_msg(virtiofsd_start(&d, &share, &err), "%s", err ? err->message : "");
    pid = d.pid;
    ck_assert_int_gt(pid, 0);
    vhost_user_init(&vu, d.sock, d.what);
    ck_assert_msg(vhost_user_connect(&vu, &err), "%s", err ? err->message : "");
    ck_assert(vu.features & (1ull << 32));               /* VERSION_1 */
    ck_assert(vu.features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
    mfd = memfd_create("ram", MFD_CLOEXEC);
    ck_assert_int_eq(ftruncate(mfd, 2 << 20), 0);
    {
        void *p = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        struct vhost_user_region r = { .gpa = 0, .size = 2 << 20, .hva = (uintptr_t)p,
                                       .fd = mfd };

        ck_assert_msg(vhost_user_set_mem_table(&vu, &r, 1, &err), "%s",
                      err ? err->message : "");
        munmap(p, 2 << 20);
    }
    ck_assert_ptr_null(virtiofsd_why(&d, 0)); /* still running */
    vhost_user_clear(&vu);
    virtiofsd_stop(&d);
    ck_assert_int_eq(d.pid, 0);
    /* Reaped: no such child any more. */
    ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    close(mfd);
}
END_TEST

START_TEST(missing_daemon)
{
    struct device_share share = { .path = dir, .tag = "t" };
    struct virtiofsd d;
    GError *err = NULL;

    g_setenv("VMM_VIRTIOFSD", "/nonexistent/virtiofsd", TRUE);
    ck_assert(!virtiofsd_start(&d, &share, &err));
    ck_assert_str_eq(err->message, "share t: cannot run virtiofsd /nonexistent/virtiofsd: No "
                     "such file or directory (install qemu-system-common, or name another "
                     "with VMM_VIRTIOFSD)");
    g_clear_error(&err);
    share.path = "/nonexistent/dir";
    g_setenv("VMM_VIRTIOFSD", "/bin/true", TRUE);
    ck_assert(!virtiofsd_start(&d, &share, &err));
    ck_assert_str_eq(err->message, "share t: /nonexistent/dir: No such file or directory");
    g_clear_error(&err);
    share.path = "/dev/null";
    ck_assert(!virtiofsd_start(&d, &share, &err));
    ck_assert_str_eq(err->message, "share t: /dev/null: not a folder");
    g_clear_error(&err);
}
END_TEST

/* A daemon that ends at once: the first message says so, and how it ended. */
START_TEST(early_exit)
{
    struct device_share share = { .path = dir, .tag = "t" };
    struct virtiofsd d;
    struct vhost_user vu;
    GError *err = NULL;
    char *why;

    signal(SIGPIPE, SIG_DFL);
    g_setenv("VMM_VIRTIOFSD", "/bin/false", TRUE);
    ck_assert_msg(virtiofsd_start(&d, &share, &err), "%s", err ? err->message : "");
    vhost_user_init(&vu, d.sock, d.what);
    ck_assert(!vhost_user_connect(&vu, &err));
    ck_assert(g_str_has_prefix(err->message, "share t: vhost-user GET_FEATURES: "));
    g_clear_error(&err);
    why = virtiofsd_why(&d, 5000);
    ck_assert_str_eq(why, "virtiofsd exited with status 1");
    g_free(why);
    ck_assert_int_eq(d.pid, 0);
    vhost_user_clear(&vu);
    virtiofsd_stop(&d);
}
END_TEST

/* One that does not answer is stopped all the same (SIGTERM). */
START_TEST(silent_daemon)
{
    struct device_share share = { .path = dir, .tag = "t" };
    struct virtiofsd d;
    struct vhost_user vu;
    GError *err = NULL;
    g_autofree char *script = g_build_filename(dir, "silent", NULL);

    ck_assert(g_file_set_contents(script, "#!/bin/sh\nexec sleep 60\n", -1, NULL));
    ck_assert_int_eq(chmod(script, 0755), 0);
    g_setenv("VMM_VIRTIOFSD", script, TRUE);
    ck_assert_msg(virtiofsd_start(&d, &share, &err), "%s", err ? err->message : "");
    vhost_user_init(&vu, d.sock, d.what);
    vu.timeout_ms = 200;
    ck_assert(!vhost_user_connect(&vu, &err));
    ck_assert_str_eq(err->message, "share t: vhost-user GET_FEATURES: the backend did not "
                     "answer within 200 ms");
    g_clear_error(&err);
    vhost_user_clear(&vu);
    virtiofsd_stop(&d);
    ck_assert_int_eq(d.pid, 0);
    g_unlink(script);
}
END_TEST

/* Not root: the daemon in a user namespace where it is root, read-only
 * share included; or, where the host forbids that, one clear line. */
START_TEST(unprivileged_daemon)
{
    pid_t pid;
    int st;

    if (access(VIRTIOFSD_DEFAULT, X_OK) < 0 || geteuid() != 0)
        return;
    ck_assert_int_eq(chmod(dir, 0777), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct device_share share = { .path = dir, .tag = "t", .readonly = true };
        struct virtiofsd d;
        struct vhost_user vu;
        GError *err = NULL;
        bool ok;

        g_unsetenv("VMM_VIRTIOFSD");
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
            _exit(2);
        /* As a user who logged in: the id change made it undumpable, and
         * its /proc/self root's. */
        prctl(PR_SET_DUMPABLE, 1);
        if (!virtiofsd_start(&d, &share, &err))
        {
            fprintf(stderr, "%s\n", err->message);
            _exit(strstr(err->message, "cannot make a user namespace") ? 0 : 3);
        }
        vhost_user_init(&vu, d.sock, d.what);
        ok = vhost_user_connect(&vu, &err) && (vu.features & (1ull << 32));
        if (!ok)
            fprintf(stderr, "%s\n", err ? err->message : "no VERSION_1");
        vhost_user_clear(&vu);
        virtiofsd_stop(&d);
        _exit(ok && d.pid == 0 ? 0 : 4);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtiofsd");
    TCase *tc = tcase_create("daemon");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, real_daemon, 0, 2);
    tcase_add_test(tc, unprivileged_daemon);
    tcase_add_test(tc, missing_daemon);
    tcase_add_test(tc, early_exit);
    tcase_add_test(tc, silent_daemon);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
