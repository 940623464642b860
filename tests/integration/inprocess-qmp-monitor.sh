#!/bin/sh
# qmp-monitor.sh against vmm serve --workers off: every VM in vmm serve's own
# process (workers are the default), the same commands, events and answers
VMM_SERVE_WORKERS=off exec sh "$(dirname "$0")/qmp-monitor.sh"
