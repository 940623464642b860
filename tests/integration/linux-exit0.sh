#!/bin/sh
# nested-timeout: 120
# A test command in a Linux guest that exits 0 makes vmm exit 0.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'sh -c true; vmm-exit $?'
VMM_TIMEOUT=100 vmm_linux
expect_status 0
expect_stdout_has "init: up"
