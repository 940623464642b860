/*
 * The dispatcher's own cost: N calls of one allowed table entry (lookup,
 * permission check, counters, handler) with no KVM around it. Run under
 * callgrind by bench/run-dispatch, which divides the instructions spent in
 * call_dispatch() by N.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vmm/calls.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    uint32_t id = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : VMM_CALL_VERSION;
    struct vm vm = { .name = "bench", .calls = vm_calls_new() };
    struct vcpu vcpu = { .vm = &vm };
    uint64_t sum = 0;

    vm.calls->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&vm.calls->policy);
    for (long i = 0; i < n; i++) {
        struct guest_call call = { .id = id, .conduit = CONDUIT_HVC };
        call_status status;

        if (call_dispatch(&vcpu, &call, &status) == CALL_ALLOWED)
            sum += call.ret[0];
    }
    printf("%ld calls of %#x, result sum %llu\n", n, id, (unsigned long long)sum);
    vm_calls_free(vm.calls);
    return 0;
}
