/*
 * The machine vmm presents to a guest: addresses and ports a guest may use.
 * Shared by vmm and by the freestanding firmware in firmware/, so it holds
 * only constants (no includes, no types). docs/abi.md describes the same.
 */
#ifndef VMM_GUEST_PLATFORM_H
#define VMM_GUEST_PLATFORM_H

/* ---- x86_64 ---- */
#define VMM_X86_RAM_BASE          0x0ULL
#define VMM_X86_COM1_PORT         0x3f8   /* 16550 UART, 8 ports */
/* QEMU isa-debug-exit compatible: a write of v ends the VM, status (v << 1) | 1. */
#define VMM_X86_DEBUG_EXIT_PORT   0xf4    /* 1..4 byte writes */
/* vmm exit port: a write of v ends the VM with status v exactly (0..255). */
#define VMM_X86_EXIT_PORT         0xf8    /* 1..4 byte writes */
#define VMM_X86_STACK_SIZE        0x10000 /* per-vCPU stack given by vmm */
/* PCI (Linux boots): ECAM for bus 0, and the window BARs are placed in,
 * in the hole between the most RAM a Linux guest gets (3 GiB) and the
 * IOAPIC. The configuration ports 0xcf8/0xcfc work too. */
#define VMM_X86_PCI_WINDOW_BASE   0xc0000000ULL
#define VMM_X86_PCI_WINDOW_SIZE   0x20000000ULL
#define VMM_X86_PCI_ECAM_BASE     0xe0000000ULL
#define VMM_X86_PCI_IO_BASE       0xd000         /* I/O BARs' ports */
#define VMM_X86_PCI_IO_SIZE       0x1000
#define VMM_PCI_ECAM_SIZE         0x100000ULL    /* one bus */

/* ---- aarch64 ---- */
#define VMM_ARM_RAM_BASE          0x40000000ULL
#define VMM_ARM_PL011_BASE        0x09000000ULL  /* as on QEMU's virt machine */
#define VMM_ARM_PL011_SIZE        0x1000
#define VMM_ARM_PL031_BASE        0x09010000ULL  /* RTC, as on QEMU's virt machine */
#define VMM_ARM_PL031_SIZE        0x1000
#define VMM_ARM_EXIT_BASE         0x090f0000ULL  /* exit device, 32-bit registers */
#define VMM_ARM_EXIT_SIZE         0x1000
#define VMM_EXIT_REG_DEBUG_EXIT   0x0   /* write v: status (v << 1) | 1 */
#define VMM_EXIT_REG_STATUS       0x4   /* write v: status v exactly */
#define VMM_ARM_GICD_BASE         0x08000000ULL
#define VMM_ARM_GICD_SIZE         0x10000
#define VMM_ARM_GICC_BASE         0x08010000ULL  /* GICv2 only: the CPU interface */
#define VMM_ARM_GICC_SIZE         0x2000
#define VMM_ARM_GITS_BASE         0x08080000ULL  /* the GICv3 ITS, where KVM has one */
#define VMM_ARM_GITS_SIZE         0x20000
#define VMM_ARM_GICR_BASE         0x080a0000ULL  /* 0x20000 per vCPU */
/* PCI (Linux boots): ECAM for bus 0, the BARs' memory window and the I/O
 * window (I/O ports 0-0xffff as MMIO, where QEMU's virt machine has it),
 * below RAM. */
#define VMM_ARM_PCI_WINDOW_BASE   0x10000000ULL
#define VMM_ARM_PCI_WINDOW_SIZE   0x2eff0000ULL
#define VMM_ARM_PCI_IO_BASE       0x3eff0000ULL
#define VMM_ARM_PCI_IO_SIZE       0x10000
#define VMM_ARM_PCI_ECAM_BASE     0x3f000000ULL
/* VBAR_EL1 resets to 0: vmm maps a read-only page of exception vectors
 * there that report an unhandled guest exception and end the VM. */
#define VMM_ARM_VECTORS_BASE      0x0ULL

/* PSCI 0.2 function IDs (SMC32/SMC64 calling convention, hvc conduit). */
#define PSCI_0_2_FN_CPU_ON_64     0xc4000003U
#define PSCI_0_2_FN_SYSTEM_OFF    0x84000008U
#define PSCI_0_2_FN_SYSTEM_RESET  0x84000009U
#define PSCI_0_2_FN_CPU_OFF       0x84000002U

#endif
