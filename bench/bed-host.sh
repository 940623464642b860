# Sourced by the host-side bench scripts that boot the nested test bed
# (bench/run*): the bed their figures in bench/README.md were taken in.
# The x86_64 bed has one vCPU for the tests (tests/nested/run, qemu_cmd);
# every x86_64 figure was measured in a bed of two, and the boot benches
# start guests of two vCPUs, which one bed vCPU would run in turn.
export NESTED_X86_SMP=${NESTED_X86_SMP:-2}
