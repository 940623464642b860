/* Shared by the Check unit tests. */
#ifndef VMM_TEST_UNIT_H
#define VMM_TEST_UNIT_H

#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <string.h>

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

#endif
