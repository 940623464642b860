/*
 * A bounded output queue drained to a file descriptor by a thread of its
 * own, so that whoever writes (a vCPU, the main loop) never waits for the
 * reader: when the reader falls behind by more than the queue holds, new
 * output is dropped and counted instead. Used for the guest console and
 * for vmm's own messages on standard error.
 */
#ifndef VMM_OUTBUF_H
#define VMM_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbuf;

/* Default queue size: a few seconds of a chatty boot log. */
#define OUTBUF_DEFAULT_CAPACITY (256 * 1024)
/* How long outbuf_close() waits for a reader that takes nothing at all. */
#define OUTBUF_CLOSE_STALL_MS 3000

/* NULL (with errno) when the writer thread cannot start. @fd stays the
 * caller's. */
struct outbuf *outbuf_new(int fd, size_t capacity);

/* From now on, outbuf_new() starts no writer thread until
 * outbuf_start_writers() (what is written meanwhile is queued): a worker
 * process builds its VM, including its console, and only then gives up
 * the host; threads that exist by then would keep what it gives up, as
 * namespaces, Landlock and capabilities are per thread. */
void outbuf_defer_writers(void);
/* Starts the deferred writers (they inherit what the caller has become)
 * and stops deferring. 0, or the first pthread_create() error (that
 * queue then drops its output). */
int outbuf_start_writers(void);

/* Queues @len bytes: all of them or, when they do not fit, none (so a line
 * is never cut in two). Returns true when queued. Never blocks on the
 * reader. */
bool outbuf_write(struct outbuf *o, const void *buf, size_t len);

/* Bytes dropped so far: no room, or the descriptor failed (see below). */
uint64_t outbuf_dropped(struct outbuf *o);

/* The errno of the write that failed (EPIPE: the reader went away), 0 while
 * none has. After a failure, everything queued or written is dropped. */
int outbuf_error(struct outbuf *o);

/* Writes out what is queued, waiting as long as the reader keeps taking
 * bytes but at most @stall_ms for one that takes none, then frees @o.
 * Returns the total of dropped bytes (including what was still queued
 * when the reader stalled). */
uint64_t outbuf_close(struct outbuf *o, unsigned stall_ms);

#endif
