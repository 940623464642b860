/*
 * Matches "EXIT: STATUS=<digits>" as a whole console line: from the start
 * of a line (the first byte of output, or after '\n' or '\r') to its end
 * ('\n' or '\r', so CRLF ends it too), nothing before, between or after.
 * A line is matched as it streams, whatever the write boundaries, and
 * only its end makes it count: a guest that powers off mid-line has not
 * reported.
 */
#include "vmm/console_status.h"

static void line_start(struct status_line *m)
{
    *m = (struct status_line){ 0 };
}

bool status_line_feed(struct status_line *m, const char *buf, size_t len, uint64_t *status)
{
    const size_t prefix_len = sizeof(STATUS_LINE_PREFIX) - 1;
    bool seen = false;

    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\n' || c == '\r') {
            if (!m->garbage && m->matched == prefix_len && m->digits) {
                *status = m->value;
                seen = true;
            }
            line_start(m);
        } else if (m->garbage) {
            continue;
        } else if (m->matched < prefix_len) {
            if (c == STATUS_LINE_PREFIX[m->matched])
                m->matched++;
            else
                m->garbage = true;
        } else if (c >= '0' && c <= '9') {
            m->digits++;
            m->value = m->value * 10 + (uint64_t)(c - '0');
            if (m->value > STATUS_LINE_MAX)
                m->value = STATUS_LINE_MAX;
        } else {
            m->garbage = true;
        }
    }
    return seen;
}
