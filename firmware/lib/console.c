/*
 * Console output and a small printf. Every fw_printf() holds the console
 * lock for the whole call, so lines from different vCPUs never interleave;
 * characters go straight to the UART (no buffer), so nothing is lost if
 * another vCPU ends the VM a moment later.
 */
#include "fw-internal.h"

static fw_spinlock_t console_lock = FW_SPINLOCK_INIT;
static bool atomics_ready;

void fw_runtime_atomics_ready(void)
{
	atomics_ready = true;
}

static void console_lock_take(void)
{
	if (atomics_ready)
		fw_spin_lock(&console_lock);
}

static void console_lock_drop(void)
{
	if (atomics_ready)
		fw_spin_unlock(&console_lock);
}

void fw_putc(char c)
{
	console_lock_take();
	fw_arch_putc(c);
	console_lock_drop();
}

void fw_puts(const char *s)
{
	console_lock_take();
	while (*s)
		fw_arch_putc(*s++);
	console_lock_drop();
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE,
	      LEN_PTRDIFF, LEN_INTMAX };

struct field {
	int width;
	int precision;          /* -1: none */
	bool left;
	bool zero;
};

static int emit_pad(char c, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fw_arch_putc(c);
	return n > 0 ? n : 0;
}

static int emit_str(const char *s, const struct field *f)
{
	int len = 0, out = 0, i;

	if (!s)
		s = "(null)";
	while (s[len] && (f->precision < 0 || len < f->precision))
		len++;
	if (!f->left)
		out += emit_pad(' ', f->width - len);
	for (i = 0; i < len; i++)
		fw_arch_putc(s[i]);
	out += len;
	if (f->left)
		out += emit_pad(' ', f->width - len);
	return out;
}

static int emit_num(uint64_t v, bool negative, unsigned base, bool upper,
		    const char *prefix, const struct field *f)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];           /* 2^64 in octal is 22 digits */
	int n = 0, len, out = 0, i;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);

	len = n + (negative ? 1 : 0) + (int)strlen(prefix);
	if (!f->left && !f->zero)
		out += emit_pad(' ', f->width - len);
	if (negative)
		fw_arch_putc('-');
	for (i = 0; prefix[i]; i++)
		fw_arch_putc(prefix[i]);
	if (!f->left && f->zero)
		out += emit_pad('0', f->width - len);
	while (n)
		fw_arch_putc(buf[--n]);
	out += len;
	if (f->left)
		out += emit_pad(' ', f->width - len);
	return out;
}

static int format(const char *fmt, va_list ap)
{
	int out = 0;

	while (*fmt) {
		struct field f = { .width = 0, .precision = -1 };
		enum length len = LEN_INT;
		uint64_t u;
		int64_t s;
		char c = *fmt++;

		if (c != '%') {
			fw_arch_putc(c);
			out++;
			continue;
		}

		for (;; fmt++) {
			if (*fmt == '-')
				f.left = true;
			else if (*fmt == '0')
				f.zero = true;
			else
				break;
		}
		if (*fmt == '*') {
			f.width = va_arg(ap, int);
			if (f.width < 0) {
				f.left = true;
				f.width = -f.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				f.width = f.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			f.precision = 0;
			if (*fmt == '*') {
				f.precision = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					f.precision = f.precision * 10 + (*fmt++ - '0');
			}
		}
		switch (*fmt) {
		case 'h':
			fmt++;
			len = LEN_SHORT;
			if (*fmt == 'h') {
				fmt++;
				len = LEN_CHAR;
			}
			break;
		case 'l':
			fmt++;
			len = LEN_LONG;
			if (*fmt == 'l') {
				fmt++;
				len = LEN_LLONG;
			}
			break;
		case 'z': fmt++; len = LEN_SIZE; break;
		case 't': fmt++; len = LEN_PTRDIFF; break;
		case 'j': fmt++; len = LEN_INTMAX; break;
		}

		c = *fmt;
		if (c)
			fmt++;
		switch (c) {
		case 'd':
		case 'i':
			switch (len) {
			case LEN_CHAR: s = (signed char)va_arg(ap, int); break;
			case LEN_SHORT: s = (short)va_arg(ap, int); break;
			case LEN_LONG: s = va_arg(ap, long); break;
			case LEN_LLONG: s = va_arg(ap, long long); break;
			case LEN_SIZE: s = (int64_t)va_arg(ap, size_t); break;
			case LEN_PTRDIFF: s = va_arg(ap, ptrdiff_t); break;
			case LEN_INTMAX: s = va_arg(ap, intmax_t); break;
			default: s = va_arg(ap, int); break;
			}
			/* Negate in unsigned arithmetic so INT64_MIN survives. */
			u = s < 0 ? -(uint64_t)s : (uint64_t)s;
			out += emit_num(u, s < 0, 10, false, "", &f);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			switch (len) {
			case LEN_CHAR: u = (unsigned char)va_arg(ap, unsigned); break;
			case LEN_SHORT: u = (unsigned short)va_arg(ap, unsigned); break;
			case LEN_LONG: u = va_arg(ap, unsigned long); break;
			case LEN_LLONG: u = va_arg(ap, unsigned long long); break;
			case LEN_SIZE: u = va_arg(ap, size_t); break;
			case LEN_PTRDIFF: u = (uint64_t)va_arg(ap, ptrdiff_t); break;
			case LEN_INTMAX: u = va_arg(ap, uintmax_t); break;
			default: u = va_arg(ap, unsigned); break;
			}
			out += emit_num(u, false, c == 'u' ? 10 : c == 'o' ? 8 : 16,
					c == 'X', "", &f);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			out += emit_num(u, false, 16, false, "0x", &f);
			break;
		case 'c':
			if (!f.left)
				out += emit_pad(' ', f.width - 1);
			fw_arch_putc((char)va_arg(ap, int));
			out++;
			if (f.left)
				out += emit_pad(' ', f.width - 1);
			break;
		case 's':
			out += emit_str(va_arg(ap, const char *), &f);
			break;
		case '%':
			fw_arch_putc('%');
			out++;
			break;
		default:
			/* Show a conversion we do not know rather than drop it. */
			fw_arch_putc('%');
			out++;
			if (c) {
				fw_arch_putc(c);
				out++;
			}
			break;
		}
	}
	return out;
}

/* format() with its own arguments, for callers already holding the lock. */
static int __attribute__((format(printf, 1, 2))) format_args(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format(fmt, ap);
	va_end(ap);
	return n;
}

int fw_vprintf(const char *fmt, va_list ap)
{
	int n;

	console_lock_take();
	n = format(fmt, ap);
	console_lock_drop();
	return n;
}

int fw_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

noreturn void fw_panic(const char *fmt, ...)
{
	va_list ap;

	console_lock_take();
	format_args("fw panic on vCPU %u: ", fw_cpu_id());
	va_start(ap, fmt);
	format(fmt, ap);
	va_end(ap);
	fw_arch_putc('\n');
	console_lock_drop();
	fw_exit(FW_EXIT_RUNTIME_ERROR);
}
