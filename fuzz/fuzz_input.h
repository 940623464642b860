/*
 * Reading a libFuzzer input as a stream of choices. Past the end every
 * read gives zeros, so any input is a complete, valid script; mutations
 * stay meaningful because each choice takes a fixed number of bytes.
 */
#ifndef VMM_FUZZ_INPUT_H
#define VMM_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_input {
    const uint8_t *data;
    size_t size, pos;
};

static inline bool fuzz_more(const struct fuzz_input *in)
{
    return in->pos < in->size;
}

/* @n bytes into @out; zeros past the end. */
static inline void fuzz_bytes(struct fuzz_input *in, void *out, size_t n)
{
    size_t have = in->pos < in->size ? in->size - in->pos : 0;
    size_t k = n < have ? n : have;

    memcpy(out, in->data + in->pos, k);
    memset((uint8_t *)out + k, 0, n - k);
    in->pos += k;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    uint8_t v;

    fuzz_bytes(in, &v, 1);
    return v;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
    uint16_t v;

    fuzz_bytes(in, &v, 2);
    return v;
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    uint32_t v;

    fuzz_bytes(in, &v, 4);
    return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    uint64_t v;

    fuzz_bytes(in, &v, 8);
    return v;
}

/* Stop the fuzzer at a broken invariant, saying which (libFuzzer then
 * writes the input out as a crash). */
#define FUZZ_CHECK(cond)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                        \
            abort();                                                               \
        }                                                                          \
    } while (0)

#endif
