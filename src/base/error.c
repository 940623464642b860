#include <stdarg.h>
#include <stdio.h>

#include "vmm/error.h"

VMM_DEFINE_QUARK(vmm-error-quark, vmm_error)

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

/* While set, lines go there instead of straight to stderr (log_async.c). */
static vmm_log_sink_fn log_sink;
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
    if (log_sink) {
        log_sink(line->str, line->len);
    } else {
        fputs(line->str, stderr);
        fflush(stderr);
    }
    g_mutex_unlock(&log_lock);
    g_string_free(line, TRUE);
}

vmm_log_sink_fn vmm_log_set_sink(vmm_log_sink_fn sink)
{
    vmm_log_sink_fn old;

    fflush(stderr);
    g_mutex_lock(&log_lock);
    old = log_sink;
    log_sink = sink;
    g_mutex_unlock(&log_lock);
    return old;
}
