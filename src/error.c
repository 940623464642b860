#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/outbuf.h"

G_DEFINE_QUARK(vmm-error-quark, vmm_error)

int vmm_error_exit_status(const GError *error)
{
    if (error && error->domain == VMM_ERROR) {
        switch ((VmmError)error->code) {
        case VMM_ERROR_CONFIG: return VMM_EXIT_USAGE;
        case VMM_ERROR_NO_KVM: return VMM_EXIT_NO_KVM;
        case VMM_ERROR_KVM:
        case VMM_ERROR_HOST: return VMM_EXIT_KVM_ERROR;
        }
    }
    /* Errors from the TOML reader and other parsers are configuration errors. */
    return VMM_EXIT_USAGE;
}

/* While set, messages go through a bounded queue (vmm_log_async_start()). */
static struct outbuf *log_out;
static GMutex log_lock;

void vmm_log(const char *fmt, ...)
{
    va_list ap;
    GString *line = g_string_new("vmm: ");

    va_start(ap, fmt);
    g_string_append_vprintf(line, fmt, ap);
    va_end(ap);
    g_string_append_c(line, '\n');
    /* One write, so lines from several threads never interleave. */
    g_mutex_lock(&log_lock);
    if (log_out) {
        outbuf_write(log_out, line->str, line->len);
    } else {
        fputs(line->str, stderr);
        fflush(stderr);
    }
    g_mutex_unlock(&log_lock);
    g_string_free(line, TRUE);
}

void vmm_log_async_start(void)
{
    struct outbuf *o = outbuf_new(STDERR_FILENO, OUTBUF_DEFAULT_CAPACITY);

    fflush(stderr);
    g_mutex_lock(&log_lock);
    if (!log_out)
        log_out = o;
    else
        outbuf_close(o, 0);
    g_mutex_unlock(&log_lock);
}

void vmm_log_async_stop(void)
{
    struct outbuf *o;
    uint64_t dropped;

    g_mutex_lock(&log_lock);
    o = log_out;
    log_out = NULL;
    g_mutex_unlock(&log_lock);
    if (!o)
        return;
    dropped = outbuf_dropped(o);
    if (dropped) {
        char *line = g_strdup_printf("vmm: %" G_GUINT64_FORMAT " bytes of vmm's messages "
                                     "were dropped (standard error did not keep up)\n",
                                     dropped);

        outbuf_write(o, line, strlen(line));
        g_free(line);
    }
    outbuf_close(o, OUTBUF_CLOSE_STALL_MS);
}
