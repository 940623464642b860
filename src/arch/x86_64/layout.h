/* Where vmm puts its own boot structures in an x86_64 guest's RAM: all
 * below 1 MiB, where firmware images may not load. */
#ifndef VMM_X86_LAYOUT_H
#define VMM_X86_LAYOUT_H

#define X86_IVT_ADDR        0x0ULL       /* a multiboot boot's real-mode IVT (linux.c) */
#define X86_GDT_ADDR        0x500ULL
#define X86_PML4_ADDR       0x10000ULL
#define X86_PDPT_ADDR       0x11000ULL
#define X86_PD_ADDR         0x12000ULL   /* one page per GiB mapped */
#define X86_MAX_MAPPED_GIB  128          /* page directories end below 0x92000 */
#define X86_IMAGE_MIN       0x100000ULL  /* firmware images load from 1 MiB */

/* GiB of guest-physical space the boot page tables identity-map: all of
 * RAM, and at least the first 4 GiB (layout.c). */
#include <stdint.h>
uint64_t x86_mapped_gib(uint64_t ram_size);

#define X86_SEL_CODE        0x08
#define X86_SEL_DATA        0x10
#define X86_SEL_TSS         0x18

#endif
