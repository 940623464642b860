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

int fw_getc(void)
{
	int c;

	console_lock_take();
	c = fw_arch_getc();
	console_lock_drop();
	return c;
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
	bool alt;               /* '#': 0x before a non-zero %x */
};

/* Where formatted text goes: the UART, or a buffer (always terminated). */
struct sink {
	char *buf;              /* NULL: the UART */
	size_t size, pos;
};

static void sink_put(struct sink *k, char c)
{
	if (!k->buf) {
		fw_arch_putc(c);
		return;
	}
	if (k->pos + 1 < k->size)
		k->buf[k->pos++] = c;
}

static int emit_pad(struct sink *k, char c, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink_put(k, c);
	return n > 0 ? n : 0;
}

static int emit_str(struct sink *k, const char *s, const struct field *f)
{
	int len = 0, out = 0, i;

	if (!s)
		s = "(null)";
	while (s[len] && (f->precision < 0 || len < f->precision))
		len++;
	if (!f->left)
		out += emit_pad(k, ' ', f->width - len);
	for (i = 0; i < len; i++)
		sink_put(k, s[i]);
	out += len;
	if (f->left)
		out += emit_pad(k, ' ', f->width - len);
	return out;
}

static int emit_num(struct sink *k, uint64_t v, bool negative, unsigned base, bool upper,
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
		out += emit_pad(k, ' ', f->width - len);
	if (negative)
		sink_put(k, '-');
	for (i = 0; prefix[i]; i++)
		sink_put(k, prefix[i]);
	if (!f->left && f->zero)
		out += emit_pad(k, '0', f->width - len);
	while (n)
		sink_put(k, buf[--n]);
	out += len;
	if (f->left)
		out += emit_pad(k, ' ', f->width - len);
	return out;
}

static int format(struct sink *k, const char *fmt, va_list ap)
{
	int out = 0;

	while (*fmt) {
		struct field f = { .width = 0, .precision = -1 };
		enum length len = LEN_INT;
		uint64_t u;
		int64_t s;
		char c = *fmt++;

		if (c != '%') {
			sink_put(k, c);
			out++;
			continue;
		}

		for (;; fmt++) {
			if (*fmt == '-')
				f.left = true;
			else if (*fmt == '0')
				f.zero = true;
			else if (*fmt == '#')
				f.alt = true;
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
			out += emit_num(k, u, s < 0, 10, false, "", &f);
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
			out += emit_num(k, u, false, c == 'u' ? 10 : c == 'o' ? 8 : 16,
					c == 'X', f.alt && u && (c == 'x' || c == 'X') ?
					(c == 'x' ? "0x" : "0X") : "", &f);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			out += emit_num(k, u, false, 16, false, "0x", &f);
			break;
		case 'c':
			if (!f.left)
				out += emit_pad(k, ' ', f.width - 1);
			sink_put(k, (char)va_arg(ap, int));
			out++;
			if (f.left)
				out += emit_pad(k, ' ', f.width - 1);
			break;
		case 's':
			out += emit_str(k, va_arg(ap, const char *), &f);
			break;
		case '%':
			sink_put(k, '%');
			out++;
			break;
		default:
			/* Show a conversion we do not know rather than drop it. */
			sink_put(k, '%');
			out++;
			if (c) {
				sink_put(k, c);
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

	struct sink uart = { 0 };

	va_start(ap, fmt);
	n = format(&uart, fmt, ap);
	va_end(ap);
	return n;
}

int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink k = { .buf = buf, .size = size };
	int n = format(&k, fmt, ap);

	if (size)
		buf[k.pos] = '\0';
	return n;
}

int fw_vprintf(const char *fmt, va_list ap)
{
	struct sink uart = { 0 };
	int n;

	console_lock_take();
	n = format(&uart, fmt, ap);
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
	struct sink uart = { 0 };

	console_lock_take();
	format_args("fw panic on vCPU %u: ", fw_cpu_id());
	va_start(ap, fmt);
	format(&uart, fmt, ap);
	va_end(ap);
	fw_arch_putc('\n');
	console_lock_drop();
	fw_exit(FW_EXIT_RUNTIME_ERROR);
}
