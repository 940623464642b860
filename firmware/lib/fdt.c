/*
 * A minimal flattened device tree reader: enough to walk the structure
 * block. It reads the blob a byte at a time where alignment is not
 * guaranteed, since on aarch64 it runs with the MMU off, where every access
 * is a Device access and an unaligned one faults.
 */
#include "fw.h"

#define FDT_MAGIC       0xd00dfeedU
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9

/* Header fields, in 32-bit words from the start of the blob. */
#define HDR_MAGIC          0
#define HDR_TOTALSIZE      1
#define HDR_OFF_STRUCT     2
#define HDR_OFF_STRINGS    3
#define HDR_VERSION        5
#define HDR_SIZE_STRINGS   8
#define HDR_SIZE_STRUCT    9
#define HDR_WORDS         10

/* Guards the depth counter from a corrupted blob, nothing else. */
#define FDT_MAX_DEPTH     64

uint32_t fw_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint64_t fw_fdt_cells(const void *p, unsigned ncells)
{
	const uint8_t *b = p;

	if (ncells >= 2)
		return (uint64_t)fw_be32(b) << 32 | fw_be32(b + 4);
	return ncells == 1 ? fw_be32(b) : 0;
}

static uint32_t hdr(const void *fdt, unsigned word)
{
	return fw_be32((const uint8_t *)fdt + 4 * word);
}

uint32_t fw_fdt_size(const void *fdt)
{
	if (!fdt || hdr(fdt, HDR_MAGIC) != FDT_MAGIC)
		return 0;
	return hdr(fdt, HDR_TOTALSIZE);
}

/* Length of the NUL-terminated string at s, or -1 if it runs past end. */
static long bounded_strlen(const char *s, const char *end)
{
	const char *p;

	for (p = s; p < end; p++)
		if (!*p)
			return p - s;
	return -1;
}

int fw_fdt_walk(const void *fdt, const struct fw_fdt_visitor *v, void *ctx)
{
	const uint8_t *base = fdt, *p, *end;
	const char *strings, *strings_end;
	uint32_t total, off_struct, off_strings, size_struct, size_strings;
	unsigned depth = 0;
	bool in_root = false;

	total = fw_fdt_size(fdt);
	if (total < 4 * HDR_WORDS || hdr(fdt, HDR_VERSION) < 17)
		return -1;
	off_struct = hdr(fdt, HDR_OFF_STRUCT);
	off_strings = hdr(fdt, HDR_OFF_STRINGS);
	size_struct = hdr(fdt, HDR_SIZE_STRUCT);
	size_strings = hdr(fdt, HDR_SIZE_STRINGS);
	if (off_struct > total || size_struct > total - off_struct ||
	    off_strings > total || size_strings > total - off_strings ||
	    off_struct % 4)
		return -1;

	p = base + off_struct;
	end = p + size_struct;
	strings = (const char *)base + off_strings;
	strings_end = strings + size_strings;

	while (p + 4 <= end) {
		uint32_t token = fw_be32(p);

		p += 4;
		switch (token) {
		case FDT_BEGIN_NODE: {
			long len = bounded_strlen((const char *)p, (const char *)end);

			if (len < 0 || depth >= FDT_MAX_DEPTH)
				return -1;
			/* The first node is the root: depth 0. */
			if (in_root)
				depth++;
			in_root = true;
			if (v->begin_node)
				v->begin_node(ctx, depth, (const char *)p);
			p += (len + 1 + 3) & ~3L;
			break;
		}
		case FDT_END_NODE:
			if (!in_root)
				return -1;
			if (v->end_node)
				v->end_node(ctx, depth);
			if (depth == 0)
				in_root = false;   /* only FDT_END may follow */
			else
				depth--;
			break;
		case FDT_PROP: {
			uint32_t len, nameoff;

			if (p + 8 > end || !in_root)
				return -1;
			len = fw_be32(p);
			nameoff = fw_be32(p + 4);
			p += 8;
			if (len > (uint32_t)(end - p) || nameoff >= size_strings ||
			    bounded_strlen(strings + nameoff, strings_end) < 0)
				return -1;
			if (v->prop)
				v->prop(ctx, depth, strings + nameoff, p, len);
			p += (len + 3) & ~3U;
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return in_root ? -1 : 0;
		default:
			return -1;
		}
	}
	return -1;
}
