/*
 * The boot layer (src/boot/): a checked config becomes a machine ready to
 * start. It creates the VM, gives it its call policy, loads its boot image
 * into guest RAM (a firmware ELF, or a Linux kernel with its initrd and
 * command line) and points the boot vCPUs at it. Core knows no loader.
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <glib.h>

struct console;
struct kvm;
struct vm;
struct vmm_config;

/* The one way `vmm run` and the VM manager turn a config into a VM; NULL
 * (with the reason) when any step fails, and nothing is left behind. */
struct vm *vm_build(struct kvm *kvm, const char *name, const struct vmm_config *cfg,
                    struct console *console, GError **error);

/* Watches guest console output for Linux's panic banner (panic_watch.c):
 * afterwards a reset or power-off ends the VM as a panic (status 121), and
 * the banner's closing line ends it at once. */
void linux_panic_watch(struct vm *vm);

/* [console] status-line (status_watch.c): the guest's power-off or reset
 * ends the VM with n >> 1 of the last "EXIT: STATUS=n" console line it
 * printed, or 1 when it printed none (any guest, firmware or kernel). */
void status_line_watch(struct vm *vm);

#endif
