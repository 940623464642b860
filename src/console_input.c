/*
 * Standard input to the guest's UART. A thread blocks in read(); when the
 * UART's receive FIFO is full it waits for the guest to drain it. The
 * thread is never joined: it dies with the process.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/seccomp.h"

static void *input_thread(void *opaque)
{
    struct console *c = opaque;
    uint8_t buf[256];

    GError *error = NULL;

    pthread_setname_np(pthread_self(), "stdin");
    if (!vmm_seccomp_enter(VMM_THREAD_STDIN, &error)) {
        vmm_log("%s; guest input is off", error->message);
        g_error_free(error);
        return NULL;
    }
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        size_t done = 0;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL; /* end of input: the guest just sees no more */
        while (done < (size_t)n) {
            size_t k = c->input(c->input_data, buf + done, n - done);

            done += k;
            if (!k) {
                struct timespec ts = { 0, 5 * 1000 * 1000 };

                nanosleep(&ts, NULL);
            }
        }
    }
}

void console_start_input(struct console *c)
{
    struct stat st;
    pthread_t t;
    sigset_t all, old;

    if (!c->input || fstat(STDIN_FILENO, &st) < 0)
        return;
    if (!isatty(STDIN_FILENO) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
        return;
    /* Signals belong to the main loop and the vCPU kick, not to this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&t, NULL, input_thread, c) == 0)
        pthread_detach(t);
    else
        vmm_log("cannot start the console input thread; guest input is off");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
