/* Loading guest images into guest RAM. */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where and for which machine an ELF64 image may be loaded. */
struct load_target {
    uint16_t e_machine;
    uint64_t lo, hi;       /* guest-physical window the segments must fit */
    uint8_t *ram;          /* host address of guest RAM, NULL to only check */
    uint64_t ram_gpa;      /* guest-physical address of ram[0] */
    uint64_t ram_size;     /* bytes at ram; 0: [lo, hi) is known to lie in RAM */
};

/* Checks an ELF64 image (@name for messages) against @t and, when
 * t->ram is set, copies its PT_LOAD segments in (zero-filling the rest of
 * each). *entry gets the entry point. */
bool elf_load(const char *name, const uint8_t *data, size_t size,
              const struct load_target *t, uint64_t *entry, GError **error);

/* Reads an image file, refusing one larger than @max_size. */
bool image_read(const char *path, uint64_t max_size, uint8_t **data, size_t *size,
                GError **error);
/* Opens a file a user named for reading, without ever blocking on it (a
 * FIFO, a device or a folder is refused: "PATH: not a regular file"); its
 * size in *size. The fd, or -1 with @error set. */
int image_open(const char *path, uint64_t *size, GError **error);
/* Reads @size bytes of image_open's @fd into a new buffer and closes it. */
bool image_read_fd(int fd, const char *path, uint64_t size, uint8_t **data, size_t *got,
                   GError **error);

#endif
