/*
 * Guest console output and vmm's own messages never wait for their reader
 * (src/base/outbuf.c, src/core/console.c): a reader that stops reading costs
 * dropped, counted output; one that goes away costs nothing else (no
 * SIGPIPE); one that is merely slow gets everything; closing is bounded.
 * And the console file is never a symlink or a device to truncate.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/outbuf.h"

#include "unit.h"

static gint64 now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* A reader that never reads: 8 MiB written in 4 KiB lines returns at once
 * (a blocking write would stop at the pipe's 64 KiB), the excess is
 * dropped and counted, and close gives up within its stall limit. */
START_TEST(stalled_reader_never_blocks_the_writer)
{
    int p[2];
    char line[4096];
    struct outbuf *o;
    gint64 t0;
    uint64_t dropped;

    ck_assert_int_eq(pipe(p), 0);
    o = outbuf_new(p[1], 64 * 1024);
    ck_assert_ptr_nonnull(o);
    memset(line, 'x', sizeof(line));
    for (int i = 0; i < 2048; i++)
        outbuf_write(o, line, sizeof(line));
    ck_assert_uint_gt(outbuf_dropped(o), 0);
    t0 = now_ms();
    dropped = outbuf_close(o, 300);
    ck_assert_int_lt(now_ms() - t0, 3000);
    /* 64 KiB fit in the pipe, at most 64 KiB more in the queue */
    ck_assert_uint_ge(dropped, 2048ULL * 4096 - 2 * 64 * 1024);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* A reader that goes away: no signal kills the process, the error is
 * EPIPE, and later output is dropped. */
START_TEST(vanished_reader_is_an_error_not_a_signal)
{
    int p[2];
    struct outbuf *o;
    gint64 t0;

    ck_assert_int_eq(pipe(p), 0);
    close(p[0]);
    o = outbuf_new(p[1], 4096);
    ck_assert(outbuf_write(o, "hello\n", 6));
    t0 = now_ms();
    while (!outbuf_error(o) && now_ms() - t0 < 3000)
        g_usleep(1000);
    ck_assert_int_eq(outbuf_error(o), EPIPE);
    ck_assert(!outbuf_write(o, "more\n", 5));
    ck_assert_uint_ge(outbuf_close(o, 100), 11);
    close(p[1]);
}
END_TEST

struct slow_reader {
    int fd;
    size_t total;
};

static void *slow_read(void *opaque)
{
    struct slow_reader *r = opaque;
    char buf[1024];
    ssize_t n;

    while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
        r->total += (size_t)n;
        g_usleep(200);
    }
    return NULL;
}

/* A slow reader gets every byte, including what was queued at close. */
START_TEST(slow_reader_gets_everything)
{
    int p[2];
    char line[100];
    struct slow_reader r = { 0 };
    pthread_t t;
    struct outbuf *o;
    size_t sent = 0;

    ck_assert_int_eq(pipe(p), 0);
    r.fd = p[0];
    ck_assert_int_eq(pthread_create(&t, NULL, slow_read, &r), 0);
    o = outbuf_new(p[1], 1 << 20);
    memset(line, 'y', sizeof(line));
    for (int i = 0; i < 2000; i++) {
        ck_assert(outbuf_write(o, line, sizeof(line)));
        sent += sizeof(line);
    }
    ck_assert_uint_eq(outbuf_close(o, 2000), 0);
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    ck_assert_uint_eq(r.total, sent);
}
END_TEST

/* console_write() on a console whose reader never reads returns; the
 * drop is counted. */
START_TEST(console_write_to_stalled_pipe_returns)
{
    int p[2], saved = dup(STDOUT_FILENO);
    struct console *c;
    char line[4096];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_ge(dup2(p[1], STDOUT_FILENO), 0);
    c = console_open(NULL, NULL);
    ck_assert_ptr_nonnull(c);
    memset(line, 'z', sizeof(line));
    for (int i = 0; i < 1024; i++)
        console_write(c, line, sizeof(line));
    ck_assert_uint_gt(console_dropped(c), 0);
    ck_assert_uint_eq(c->written, 1024 * sizeof(line));
    console_close(c);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(p[0]);
    close(p[1]);
}
END_TEST

static char *tmp_path(const char *name)
{
    static char *dir;

    if (!dir)
        dir = g_dir_make_tmp("vmm-output-XXXXXX", NULL);
    return g_build_filename(dir, name, NULL);
}

START_TEST(console_file_rules)
{
    g_autofree char *reg = tmp_path("console.log"), *link = tmp_path("link"),
                    *fifo = tmp_path("fifo"), *target = tmp_path("precious");
    GError *err = NULL;
    struct console *c;
    struct stat st;
    gint64 t0;

    /* a regular file is created, then truncated when reopened */
    ck_assert(g_file_set_contents(reg, "old contents\n", -1, NULL));
    c = console_open(reg, &err);
    ck_assert_ptr_nonnull(c);
    console_write(c, "new\n", 4);
    console_close(c);
    ck_assert_int_eq(stat(reg, &st), 0);
    ck_assert_int_eq(st.st_size, 4);

    /* a symlink is refused, and what it points to is left alone */
    ck_assert(g_file_set_contents(target, "keep me\n", -1, NULL));
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_ptr_null(console_open(link, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "symbolic link"));
    g_clear_error(&err);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_size, 8);

    /* a FIFO nobody reads is refused at once, not waited on */
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    t0 = now_ms();
    ck_assert_ptr_null(console_open(fifo, &err));
    ck_assert_int_lt(now_ms() - t0, 2000);
    ck_assert_ptr_nonnull(strstr(err->message, "FIFO"));
    g_clear_error(&err);

    /* a character device is written as it is */
    c = console_open("/dev/null", &err);
    ck_assert_ptr_nonnull(c);
    console_close(c);

    /* a directory is no console */
    ck_assert_ptr_null(console_open("/", &err));
    g_clear_error(&err);
    unlink(reg);
    unlink(link);
    unlink(fifo);
    unlink(target);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("output");

    /* The tests that fail by hanging fail by Check's timeout instead. */
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, stalled_reader_never_blocks_the_writer);
    tcase_add_test(tc, vanished_reader_is_an_error_not_a_signal);
    tcase_add_test(tc, slow_reader_gets_everything);
    tcase_add_test(tc, console_write_to_stalled_pipe_returns);
    tcase_add_test(tc, console_file_rules);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
