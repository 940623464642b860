/*
 * vmm's own messages through a bounded queue (vmm/outbuf.h), so that a
 * reader of stderr that stops reading never stalls a vCPU or the main
 * loop: what does not fit is dropped, counted and reported at the end.
 */
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/outbuf.h"

static struct outbuf *log_out;

static void to_queue(const char *line, size_t len)
{
    outbuf_write(log_out, line, len);
}

void vmm_log_async_start(void)
{
    if (log_out)
        return;
    log_out = outbuf_new(STDERR_FILENO, OUTBUF_DEFAULT_CAPACITY);
    if (log_out)
        vmm_log_set_sink(to_queue);
}

void vmm_log_async_stop(void)
{
    uint64_t dropped;

    if (!log_out)
        return;
    /* After this no thread writes to the queue: vmm_log() swaps the sink
     * under its lock. */
    vmm_log_set_sink(NULL);
    dropped = outbuf_dropped(log_out);
    if (dropped) {
        char *line = g_strdup_printf("vmm: %" G_GUINT64_FORMAT " bytes of vmm's messages "
                                     "were dropped (standard error did not keep up)\n",
                                     dropped);

        outbuf_write(log_out, line, strlen(line));
        g_free(line);
    }
    outbuf_close(log_out, OUTBUF_CLOSE_STALL_MS);
    log_out = NULL;
}
