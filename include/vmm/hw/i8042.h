/* The PC keyboard controller at ports 0x60/0x64, for its reset line only:
 * Linux reboots x86 machines by pulsing it (command 0xfe), and the VM
 * ends. No keyboard behind it. */
#ifndef VMM_HW_I8042_H
#define VMM_HW_I8042_H

#include "vmm/device.h"

#define I8042_DATA_PORT   0x60
#define I8042_CMD_PORT    0x64
#define I8042_CMD_RESET   0xfe

/* At I8042_DATA_PORT; its command port is 4 above. */
extern const struct device_ops i8042_device;

#endif
