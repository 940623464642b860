#!/bin/sh
# qmp-lifecycle.sh against vmm serve --workers on: each VM in its own worker process,
# the same commands, events and answers
VMM_SERVE_WORKERS=1 exec sh "$(dirname "$0")/qmp-lifecycle.sh"
