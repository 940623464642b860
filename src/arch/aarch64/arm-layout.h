/* Sizes of the aarch64 machine's layout (layout.c), shared by the
 * architecture files. Plain numbers: compiles on any host. */
#ifndef VMM_ARM_LAYOUT_H
#define VMM_ARM_LAYOUT_H

#define GICR_STRIDE   0x20000ULL  /* RD_base + SGI_base frames per vCPU */
#define DTB_MAX_SIZE  0x200000ULL /* the arm64 boot protocol's limit */

#endif
