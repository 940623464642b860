/* aarch64 runtime constants shared by entry.S and arch.c (defines only). */
#ifndef FW_ARM_ARCH_H
#define FW_ARM_ARCH_H

/* vCPUs the runtime can run: each needs a stack in .stacks (1 MiB total).
 * Further CPUs in the device tree stay powered off. */
#define FW_ARM_MAX_CPUS      64
#define FW_ARM_STACK_SHIFT   14          /* 16 KiB per vCPU */
#define FW_ARM_STACK_SIZE    (1 << FW_ARM_STACK_SHIFT)

/* MAIR_EL1 slots the page tables refer to. */
#define FW_ARM_ATTR_DEVICE   0           /* Device-nGnRnE */
#define FW_ARM_ATTR_NORMAL   1           /* Normal, write-back, RW-allocate */
#define FW_ARM_MAIR          0xff00

/*
 * TCR_EL1 without IPS (filled in from ID_AA64MMFR0_EL1.PARange):
 * T0SZ = 25 (39-bit VA, so the walk starts at level 1 with 1 GiB blocks),
 * table walks inner/outer write-back, inner shareable, 4 KiB granule,
 * EPD1 = 1 (no TTBR1 walks: nothing lives in the upper half).
 */
#define FW_ARM_TCR           ((25 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | \
			      (1 << 23))

#define SCTLR_M              (1 << 0)
#define SCTLR_A              (1 << 1)
#define SCTLR_C              (1 << 2)
#define SCTLR_I              (1 << 12)
#define SCTLR_WXN            (1 << 19)
#define SCTLR_EE             (1 << 25)

#endif
