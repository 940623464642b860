/*
 * Standard input to the guest's UART. A thread blocks in read(); when the
 * UART's receive FIFO is full it waits for the guest to drain it. The
 * thread is never joined: it dies with the process.
 *
 * The thread outlives the VM (vm_destroy, then console_close), so it never
 * holds the console or the UART on its own: it reaches them through @fed,
 * under @feed_lock, and the UART's cleanup (console_input_detach) clears
 * @fed under the same lock before its state is freed. After that the
 * thread stops at its next byte.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/console-input.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/seccomp.h"

static GMutex feed_lock;
static struct console *fed; /* the console stdin feeds, NULL once its UART is gone */

/* Hands @buf to the input UART: how many bytes it took, or -1 when there
 * is no UART any more. */
static ssize_t deliver(const uint8_t *buf, size_t len)
{
    ssize_t k = -1;

    g_mutex_lock(&feed_lock);
    if (fed && fed->input)
        k = fed->input(fed->input_data, buf, len);
    g_mutex_unlock(&feed_lock);
    return k;
}

static void *input_thread(void *opaque)
{
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
            ssize_t k = deliver(buf + done, n - done);

            if (k < 0)
                return NULL; /* the VM is gone */
            done += k;
            if (!k) {
                struct timespec ts = { 0, 5 * 1000 * 1000 };

                nanosleep(&ts, NULL);
            }
        }
    }
}

void console_input_detach(struct console *c, void *opaque)
{
    g_mutex_lock(&feed_lock);
    if (c && c->input_data == opaque) {
        c->input = NULL;
        c->input_data = NULL;
        if (fed == c)
            fed = NULL;
    }
    g_mutex_unlock(&feed_lock);
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
    g_mutex_lock(&feed_lock);
    fed = c;
    g_mutex_unlock(&feed_lock);
    /* Signals belong to the main loop and the vCPU kick, not to this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&t, NULL, input_thread, NULL) == 0)
        pthread_detach(t);
    else
        vmm_log("cannot start the console input thread; guest input is off");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
