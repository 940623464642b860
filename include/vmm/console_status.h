/*
 * The status line a test guest prints before it powers off:
 * "EXIT: STATUS=<n>" alone on a console line, n = (code << 1) | 1 as
 * kvm-unit-tests prints it (QEMU's chr-testdev / isa-debug-exit
 * convention). A byte-at-a-time matcher, O(1) per byte and without
 * allocation, so the console's write path (a vCPU thread, under the
 * console's lock) stays short.
 */
#ifndef VMM_CONSOLE_STATUS_H
#define VMM_CONSOLE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_LINE_PREFIX "EXIT: STATUS="
/* Values above it are kept as it: such a status is never a success. */
#define STATUS_LINE_MAX    UINT32_MAX

struct status_line {
    unsigned matched;    /* prefix bytes matched on this line; past it: digits */
    unsigned digits;     /* digits seen after the prefix */
    bool garbage;        /* this line is not a status line (skip to its end) */
    uint64_t value;      /* the digits so far, saturated at STATUS_LINE_MAX */
};

/* Feeds guest output. Returns true when a status line ended in @buf (at a
 * '\n' or '\r'), with the last complete one's value in *@status. */
bool status_line_feed(struct status_line *m, const char *buf, size_t len, uint64_t *status);

#endif
