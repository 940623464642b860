/* ELF64 images: the bundled firmware and any freestanding test guest. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/loader.h"

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
                         uint16_t e_machine, const Elf64_Ehdr **out, GError **error)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;

    if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
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
    *out = eh;
    return true;
}

bool elf_load(const char *name, const uint8_t *data, size_t size,
              const struct load_target *t, uint64_t *entry, GError **error)
{
    const Elf64_Ehdr *eh;
    bool entry_loaded = false;
    unsigned loads = 0;

    if (!check_header(name, data, size, t->e_machine, &eh, error))
        return false;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(data + eh->e_phoff) + i;

        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
            ph->p_filesz > size - ph->p_offset)
            return fail("%s: segment %u lies outside the file", name, i);
        if (ph->p_paddr < t->lo || ph->p_paddr > t->hi || ph->p_memsz > t->hi - ph->p_paddr)
            return fail("%s: segment %u at %#" G_GINT64_MODIFIER "x-%#" G_GINT64_MODIFIER
                        "x does not fit in guest RAM (room for images: %#" G_GINT64_MODIFIER
                        "x-%#" G_GINT64_MODIFIER "x); raise vm.memory", name, i,
                        (guint64)ph->p_paddr, (guint64)(ph->p_paddr + ph->p_memsz),
                        t->lo, t->hi);
        if (t->ram) {
            uint8_t *dst = t->ram + (ph->p_paddr - t->ram_gpa);

            memcpy(dst, data + ph->p_offset, ph->p_filesz);
            memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
        }
        if (eh->e_entry >= ph->p_paddr && eh->e_entry - ph->p_paddr < ph->p_memsz)
            entry_loaded = true;
        loads++;
    }
    if (!loads)
        return fail("%s: no loadable segments", name);
    if (!entry_loaded)
        return fail("%s: entry point %#" G_GINT64_MODIFIER "x is not in a loaded segment",
                    name, (guint64)eh->e_entry);
    *entry = eh->e_entry;
    return true;
}

bool image_read(const char *path, uint64_t max_size, uint8_t **data, size_t *size,
                GError **error)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf;
    size_t got = 0;

    if (fd < 0)
        return fail("%s: %s", path, g_strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail("%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_size) {
        close(fd);
        return fail("%s: image of %" G_GINT64_FORMAT " bytes is larger than guest RAM "
                    "(%" G_GUINT64_FORMAT " bytes); raise vm.memory", path,
                    (gint64)st.st_size, max_size);
    }
    buf = g_malloc(st.st_size ? st.st_size : 1);
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);

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
    *size = got;
    return true;
}
