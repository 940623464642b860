/*
 * The end of a UART's life as the console's input (console_set_input):
 * its state is about to be freed. Waits for a delivery the stdin thread
 * (console_start_input) may be making to it, and stops the thread from
 * touching it, or the console, again.
 */
#ifndef VMM_CONSOLE_INPUT_H
#define VMM_CONSOLE_INPUT_H

struct console;

/* Nothing happens unless @opaque is @c's input now. */
void console_input_detach(struct console *c, void *opaque);

#endif
