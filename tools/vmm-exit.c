/*
 * vmm-exit STATUS: ends the VM from Linux userspace with STATUS (0-255)
 * through vmm's exact-status exit register (docs/abi.md). A static binary
 * with no dependencies, built for the build's host architecture, for test
 * initramfs images to include. Needs root (ioperm, /dev/mem).
 *   x86_64:  a byte write to port 0xf8 (the kernel has no /dev/port).
 *   aarch64: a 32-bit write to 0x090f0004 through /dev/mem; the register
 *            is no RAM and no driver claims it, so STRICT_DEVMEM allows it.
 * A guest program, not part of vmm: the one #if per architecture is here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "vmm-guest/platform.h"

#if defined(__x86_64__)
#include <sys/io.h>

static int exit_vm(unsigned status)
{
    if (ioperm(VMM_X86_EXIT_PORT, 1, 1) < 0)
        return -errno;
    outb(status, VMM_X86_EXIT_PORT);
    return -EIO; /* still running: not under vmm */
}
#elif defined(__aarch64__)
static int exit_vm(unsigned status)
{
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    volatile uint32_t *regs;

    if (fd < 0)
        return -errno;
    regs = mmap(NULL, VMM_ARM_EXIT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                VMM_ARM_EXIT_BASE);
    if (regs == MAP_FAILED)
        return -errno;
    regs[VMM_EXIT_REG_STATUS / 4] = status;
    return -EIO;
}
#else
#error "vmm-exit: x86_64 or aarch64 only"
#endif

int main(int argc, char **argv)
{
    char *end;
    unsigned long status;
    int r;

    if (argc != 2) {
        fprintf(stderr, "usage: vmm-exit STATUS (0-255)\n");
        return 2;
    }
    status = strtoul(argv[1], &end, 0);
    if (!*argv[1] || *end || status > 255) {
        fprintf(stderr, "vmm-exit: \"%s\" is not a status (0-255)\n", argv[1]);
        return 2;
    }
    /* Whatever the test wrote should not be lost with the VM: files, and
     * console output still queued in the tty layer. */
    sync();
    tcdrain(STDOUT_FILENO);
    tcdrain(STDERR_FILENO);
    r = exit_vm(status);
    fprintf(stderr, "vmm-exit: %s\n", r == -EIO ? "the VM did not end (not running under vmm?)"
                                               : strerror(-r));
    return 1;
}
