/*
 * Reads a line from the console by polling the UART's status register,
 * with its receive interrupt masked as it comes out of reset (nothing here
 * touches the UART's set-up, like kvm-unit-tests' getchar), echoes it and
 * ends the VM with the number the line holds (100 when it holds none).
 */
#include "fw.h"

#define LINE_MAX 64

void fw_main(unsigned cpu)
{
	char line[LINE_MAX + 1];
	unsigned n = 0, status = 0;
	bool number = false;
	int c;

	if (cpu != 0)
		return;
	fw_printf("echo-input: reading\n");
	for (;;) {
		c = fw_getc();
		if (c < 0) {
			fw_cpu_relax();
			continue;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n < LINE_MAX)
			line[n++] = (char)c;
	}
	line[n] = 0;
	for (unsigned i = 0; i < n; i++) {
		number = line[i] >= '0' && line[i] <= '9';
		if (!number)
			break;
		status = (status * 10 + (unsigned)(line[i] - '0')) & 0xff;
	}
	fw_printf("echo-input: got <%s>\n", line);
	fw_exit(number ? (int)status : 100);
}
