/* The PC keyboard controller at ports 0x60/0x64, for its reset line only:
 * Linux reboots x86 machines by pulsing it (command 0xfe), and the VM
 * ends. No keyboard behind it. */
#ifndef VMM_HW_I8042_H
#define VMM_HW_I8042_H

#include <glib.h>
#include <stdbool.h>

struct vm;

#define I8042_DATA_PORT   0x60
#define I8042_CMD_PORT    0x64
#define I8042_CMD_RESET   0xfe

bool i8042_register(struct vm *vm, GError **error);

#endif
