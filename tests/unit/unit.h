/* Shared by the Check unit tests. */
#ifndef VMM_TEST_UNIT_H
#define VMM_TEST_UNIT_H

#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "vmm/iobus.h"

/* Runs every test of @s; the process's exit status. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* A guest's MMIO access through @bus (no vCPU): the value read, or @v
 * written, in the low @len bytes. */
static inline uint32_t unit_mmio_read(struct iobus *bus, uint64_t addr, unsigned len)
{
    uint32_t v = 0;

    iobus_access(bus, IOBUS_MMIO, NULL, addr, (uint8_t *)&v, len, false);
    return v;
}

static inline void unit_mmio_write(struct iobus *bus, uint64_t addr, uint32_t v, unsigned len)
{
    iobus_access(bus, IOBUS_MMIO, NULL, addr, (uint8_t *)&v, len, true);
}

#define UNIT_ELF_SIZE (sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 16)

/* A minimal ELF64 executable in @buf (at least UNIT_ELF_SIZE bytes) with
 * one PT_LOAD segment of 16 file bytes at @paddr spanning @memsz; its size. */
static inline size_t unit_make_elf(uint8_t *buf, uint16_t machine, uint64_t paddr, uint64_t memsz,
                            uint64_t entry)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
    size_t size = sizeof(*eh) + sizeof(*ph) + 16;

    memset(buf, 0, size);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_type = ET_EXEC;
    eh->e_machine = machine;
    eh->e_entry = entry;
    eh->e_phoff = sizeof(*eh);
    eh->e_phentsize = sizeof(*ph);
    eh->e_phnum = 1;
    ph->p_type = PT_LOAD;
    ph->p_offset = sizeof(*eh) + sizeof(*ph);
    ph->p_paddr = paddr;
    ph->p_filesz = 16;
    ph->p_memsz = memsz;
    memset(buf + ph->p_offset, 0xab, 16);
    return size;
}

/* A 64-bit bzImage, protocol 2.15, 4 setup sectors and 4 KiB of kernel,
 * its preferred address and init_size as given. */
static inline size_t unit_make_bzimage(uint8_t *d, uint64_t pref, uint32_t init_size)
{
    size_t size = 5 * 512 + 4096;
    uint16_t flag = 0xaa55, version = 0x20f, xlf = 1;
    uint32_t cmdline_size = 2047, initrd_max = 0x7fffffff;

    memset(d, 0, size);
    d[0x1f1] = 4;
    memcpy(d + 0x1fe, &flag, 2);
    d[0x201] = 0x6a;
    memcpy(d + 0x202, "HdrS", 4);
    memcpy(d + 0x206, &version, 2);
    d[0x211] = 0x01;
    memcpy(d + 0x22c, &initrd_max, 4);
    memcpy(d + 0x236, &xlf, 2);
    memcpy(d + 0x238, &cmdline_size, 4);
    memcpy(d + 0x258, &pref, 8);
    memcpy(d + 0x260, &init_size, 4);
    return size;
}

#endif
