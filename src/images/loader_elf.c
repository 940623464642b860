/* ELF64 images: the bundled firmware and any freestanding test guest. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/loader.h"
#include "vmm/memory.h"

static const char *machine_name(uint16_t e_machine)
{
    switch (e_machine) {
    case EM_X86_64: return "x86_64";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "i386";
    case EM_ARM: return "32-bit Arm";
    case EM_RISCV: return "RISC-V";
    default: return "another architecture";
    }
}

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

static bool check_header(const char *name, const uint8_t *data, size_t size,
                         uint16_t e_machine, Elf64_Ehdr *eh, GError **error)
{
    /* Copied out: the file's bytes have no alignment to rely on. */
    if (size < sizeof(*eh))
        return fail("%s: not an ELF image", name);
    memcpy(eh, data, sizeof(*eh));
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return fail("%s: not an ELF image", name);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return fail("%s: not a little-endian ELF64 image", name);
    if (eh->e_machine != e_machine)
        return fail("%s: image is for %s, but this host runs %s", name,
                    machine_name(eh->e_machine), machine_name(e_machine));
    if (eh->e_type != ET_EXEC)
        return fail("%s: not an executable ELF image (e_type %u)", name, eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
        eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
        return fail("%s: corrupt program headers", name);
    return true;
}

/* Where segment @ph goes in the host's view of guest RAM: inside the
 * window, which must itself lie inside RAM. NULL if either is violated. */
static uint8_t *segment_hva(const struct load_target *t, const Elf64_Phdr *ph)
{
    uint8_t *window;

    if (t->lo < t->ram_gpa || t->hi < t->lo ||
        (t->ram_size && !gpa_range_hva(t->ram, t->ram_gpa, t->ram_size, t->lo, t->hi - t->lo)))
        return NULL;
    window = t->ram + (t->lo - t->ram_gpa);
    return gpa_range_hva(window, t->lo, t->hi - t->lo, ph->p_paddr, ph->p_memsz);
}

bool elf_load(const char *name, const uint8_t *data, size_t size,
              const struct load_target *t, uint64_t *entry, GError **error)
{
    Elf64_Ehdr eh;
    bool entry_loaded = false;
    unsigned loads = 0;

    if (!check_header(name, data, size, t->e_machine, &eh, error))
        return false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, data + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        /* A bss-only segment reads nothing: its offset does not matter
         * (GNU ld puts it past the end of small files). */
        if (ph.p_filesz > ph.p_memsz ||
            (ph.p_filesz && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)))
            return fail("%s: segment %u lies outside the file", name, i);
        if (ph.p_paddr < t->lo || ph.p_paddr > t->hi || ph.p_memsz > t->hi - ph.p_paddr)
            return fail("%s: segment %u at %#" G_GINT64_MODIFIER "x-%#" G_GINT64_MODIFIER
                        "x does not fit in guest RAM (room for images: %#" G_GINT64_MODIFIER
                        "x-%#" G_GINT64_MODIFIER "x); raise vm.memory", name, i,
                        (guint64)ph.p_paddr, (guint64)ph.p_paddr + ph.p_memsz,
                        t->lo, t->hi);
        if (t->ram) {
            uint8_t *dst = segment_hva(t, &ph);

            if (!dst)
                return fail("%s: segment %u lies outside guest RAM", name, i);
            if (ph.p_filesz)
                memcpy(dst, data + ph.p_offset, ph.p_filesz);
            memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        }
        if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz)
            entry_loaded = true;
        loads++;
    }
    if (!loads)
        return fail("%s: no loadable segments", name);
    if (!entry_loaded)
        return fail("%s: entry point %#" G_GINT64_MODIFIER "x is not in a loaded segment",
                    name, (guint64)eh.e_entry);
    *entry = eh.e_entry;
    return true;
}

int image_open(const char *path, uint64_t *size, GError **error)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", path, g_strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: not a regular file", path);
        return -1;
    }
    /* A regular file: blocking reads from here on, as for any file. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    *size = st.st_size;
    return fd;
}

bool image_read_fd(int fd, const char *path, uint64_t size, uint8_t **data, size_t *got_size,
                   GError **error)
{
    uint8_t *buf = g_malloc(size ? size : 1);
    size_t got = 0;

    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: read: %s", path,
                        n < 0 ? g_strerror(errno) : "file shrank while reading");
            g_free(buf);
            close(fd);
            return false;
        }
        got += n;
    }
    close(fd);
    *data = buf;
    *got_size = got;
    return true;
}

bool image_read(const char *path, uint64_t max_size, uint8_t **data, size_t *size,
                GError **error)
{
    uint64_t file_size;
    int fd = image_open(path, &file_size, error);

    if (fd < 0)
        return false;
    if (file_size > max_size) {
        close(fd);
        return fail("%s: image of %" G_GUINT64_FORMAT " bytes is larger than guest RAM "
                    "(%" G_GUINT64_FORMAT " bytes); raise vm.memory", path, file_size,
                    max_size);
    }
    return image_read_fd(fd, path, file_size, data, size, error);
}
