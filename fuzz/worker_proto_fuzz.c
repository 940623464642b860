// fuzz-sources: src/manager/worker_proto.c
// fuzz-sources: src/calls/calls.c src/calls/calls_info.c src/calls/calls_vm.c src/calls/ucall.c src/calls/policy.c
// fuzz-sources: src/calls/vm_calls.c
// fuzz-sources: lib/toml/toml.c src/core/guest_mem.c fuzz/fake_console.c src/core/console_observer.c src/core/iobus.c
// fuzz-sources: src/arch/x86_64/vmcall.c src/arch/x86_64/hypercall.c src/arch/aarch64/smccc_decode.c
// fuzz-sources: fuzz/fake_vm.c fuzz/fake_kvm.c
// fuzz-includes: include src/arch/x86_64 fuzz
// fuzz-pkgs: glib-2.0
// fuzz-libs: -lm
// fuzz-options: -max_len=70000
/*
 * libFuzzer target: any byte string is one packet on a worker's channel
 * (src/manager/worker_proto.c), decoded as the manager decodes a worker's
 * (the first byte's low bit clear) or as a worker decodes the manager's.
 * The decoder must never read outside the packet nor allocate more than
 * it holds; a message it accepts must encode back to exactly the same
 * bytes (so no field was read loosely: a hostile worker has one way to
 * say each thing) and decode again to the same message; a refused one
 * leaves nothing allocated and says why.
 */
#include <string.h>

#include "vmm/worker_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    worker_peer from;
    struct worker_msg msg, again;
    GError *err = NULL;
    GByteArray *b;
    uint8_t *copy;

    if (!size)
        return 0;
    from = data[0] & 1 ? WORKER_FROM_MANAGER : WORKER_FROM_WORKER;
    /* The packet in a buffer of its exact size: ASan sees any read past it. */
    copy = g_memdup2(data + 1, size - 1);
    if (!worker_msg_decode(copy, size - 1, from, &msg, &err)) {
        if (!err || err->domain != WORKER_PROTO_ERROR || !err->message[0])
            __builtin_trap();
        if (msg.name || msg.config || msg.message || msg.counts)
            __builtin_trap();
        g_error_free(err);
        g_free(copy);
        return 0;
    }
    b = g_byte_array_new();
    if (!worker_msg_encode(&msg, b, NULL) || b->len != size - 1 ||
        memcmp(b->data, copy, b->len))
        __builtin_trap();
    if (!worker_msg_decode(b->data, b->len, from, &again, NULL) || again.type != msg.type ||
        again.seq != msg.seq)
        __builtin_trap();
    worker_msg_clear(&again);
    worker_msg_clear(&msg);
    g_byte_array_unref(b);
    g_free(copy);
    return 0;
}
