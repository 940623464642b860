/*
 * firstline: how long a command takes to print its first line, and its
 * peak RSS. Runs COMMAND RUNS times; each run prints
 *   BENCH <label> first_line_us=N total_us=N maxrss_kib=N status=N
 * where first_line_us is from just before fork() to the first '\n' on the
 * command's stdout (the pipe), total_us to its exit, and maxrss_kib its
 * ru_maxrss from wait4(). Built statically by bench/run, so it needs
 * nothing from the nested test bed's root.
 *
 *   firstline LABEL RUNS COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int run_once(const char *label, char **argv)
{
    int fds[2];
    char buf[4096];
    long long t0, first = -1, end;
    struct rusage ru;
    int status;
    ssize_t n;
    pid_t pid;

    if (pipe(fds) < 0) {
        perror("pipe");
        return -1;
    }
    t0 = now_us();
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    /* Read to the end, so the command never blocks on a full pipe. */
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        if (first < 0 && memchr(buf, '\n', n))
            first = now_us();
    close(fds[0]);
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return -1;
    }
    end = now_us();
    printf("BENCH %s first_line_us=%lld total_us=%lld maxrss_kib=%ld status=%d\n", label,
           first < 0 ? -1 : first - t0, end - t0, ru.ru_maxrss,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int runs;

    if (argc < 4 || (runs = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: firstline LABEL RUNS COMMAND [ARGS...]\n");
        return 2;
    }
    for (int i = 0; i < runs; i++)
        if (run_once(argv[1], argv + 3) < 0)
            return 1;
    return 0;
}
