// fuzz-sources: src/calls/calls.c src/calls/calls_info.c src/calls/calls_vm.c src/calls/ucall.c src/calls/policy.c
// fuzz-sources: src/calls/vm_calls.c
// fuzz-sources: lib/toml/toml.c src/core/guest_mem.c fuzz/fake_console.c src/core/console_observer.c src/core/iobus.c
// fuzz-sources: src/arch/x86_64/vmcall.c src/arch/x86_64/hypercall.c src/arch/aarch64/smccc_decode.c
// fuzz-sources: fuzz/fake_vm.c fuzz/fake_kvm.c
// fuzz-includes: include src/arch/x86_64 fuzz
// fuzz-pkgs: glib-2.0
// fuzz-libs: -lm
// fuzz-options: -max_len=4096
/*
 * libFuzzer target: guest calls through each conduit, decoded from the
 * registers or guest memory a guest controls and dispatched through the
 * VM's policy (src/calls/calls.c) to the real handlers. The first byte picks the
 * conduit for the whole input:
 *   0  x86_64 vmcall: kvm_run's Xen hypercall exit into x86_handle_vmcall()
 *      (src/arch/x86_64/vmcall.c), KVM faked (fake_kvm.c) including the
 *      exception it raises at a refused vmcall and failing ioctls;
 *   1  aarch64 hvc/smc: smccc_call() (src/arch/aarch64/smccc_decode.c),
 *      what smccc.c runs between reading x1-x4 and writing x0-x3;
 *   2  the ucall doorbell: ucall_ring() (src/calls/ucall.c) on a structure in
 *      guest RAM, a heap buffer of the input's size, so ASan sees any
 *      access past it.
 * Then come the VM's shape and policy, its host (the VM manager's hooks,
 * with an external monitor that may claim a range of IDs), and a sequence
 * of calls. After each call the conduit's answer is checked against the
 * policy's verdict: a refusal always looks like one, counters move by one,
 * a monitor never sees a call the policy refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/calls.h"
#include "vmm/console.h"
#include "vmm/ucall.h"
#include "vmm/vm-host.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"
#include "../src/arch/aarch64/smccc_decode.h"
#include "hypercall.h"
#include "x86.h"

#include "fake.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VCPUS 4
#define PAGE 4096ULL
#define MAX_OPS 64
#define X86_UD 6
#define X86_GP 13
#define RET_NOT_SUPPORTED ((uint64_t)(int64_t)VMM_RET_NOT_SUPPORTED)
#define RET_EINVAL ((uint64_t)(int64_t)VMM_X86_RET_EINVAL)

enum { CONDUIT_X86, CONDUIT_ARM, CONDUIT_UCALL_RING, NR_CONDUITS };

static struct console *console;

/* The VM manager's side (struct vm_host_ops), answering as the input says. */
static struct {
    struct vm *vm;
    int result;                 /* 0 or -errno for every management call */
    bool monitor;               /* an external monitor claims [first, last] */
    uint32_t first, last;
    call_status status;
    uint64_t ret[4];
    call_conduit conduit;       /* what the current call came through */
    unsigned forwarded, refused, managed;
} host;

static int h_create(struct vm *caller, uint64_t image, uint64_t *id)
{
    FUZZ_CHECK(caller == host.vm);
    host.managed++;
    *id = image + 1;
    return host.result;
}

static int h_start(struct vm *caller, uint64_t id)
{
    FUZZ_CHECK(caller == host.vm);
    host.managed++;
    return host.result;
}

static int h_query(struct vm *caller, uint64_t id, uint64_t *state, uint64_t *status)
{
    FUZZ_CHECK(caller == host.vm);
    host.managed++;
    *state = GUEST_VM_RUNNING;
    *status = id & 0xff;
    return host.result;
}

static void h_refused(struct vm *vm, unsigned vcpu, uint32_t id, const char *reason)
{
    FUZZ_CHECK(vm == host.vm && vcpu < vm->nr_vcpus && reason && *reason);
    host.refused++;
}

static bool h_forward(struct vcpu *vcpu, struct guest_call *call, call_status *status)
{
    struct vm *vm = vcpu->vm;

    /* The policy decides before any monitor sees a call. */
    FUZZ_CHECK(call_decide(&vm->calls->policy, call_lookup(call->id), call->privilege) ==
               CALL_ALLOWED);
    FUZZ_CHECK(call->conduit == host.conduit);
    if (!host.monitor || call->id < host.first || call->id > host.last)
        return false;
    host.forwarded++;
    /* As the manager: the monitor sees all four arguments. */
    if (!call_need_args(call, 4)) {
        *status = CALL_NOT_SUPPORTED;
        return true;
    }
    *status = host.status;
    memcpy(call->ret, host.ret, sizeof(call->ret));
    return true;
}

static const struct vm_host_ops host_ops = {
    .vm_create = h_create, .vm_start = h_start, .vm_stop = h_start,
    .vm_destroy = h_start, .vm_query = h_query, .call_refused = h_refused,
    .forward_call = h_forward,
};

static uint64_t stats_total(const struct vm *vm)
{
    uint64_t n = 0;

    for (size_t i = 0; i <= call_table_len; i++)
        for (int v = 0; v < CALL_VERDICT_COUNT; v++)
            n += call_stats_get(&vm->calls->stats, i, v);
    return n;
}

/* A function ID: mostly one the table knows, or near vmm's range. */
static uint32_t pick_id(struct fuzz_input *in)
{
    uint8_t b = fuzz_u8(in);

    switch (b & 3) {
    case 0:
    case 1: {
        uint32_t id = call_table[(b >> 2) % call_table_len].first;

        /* Sometimes the SMC32 twin, or a yielding call. */
        return (b & 0x80) ? id & ~(uint32_t)(b & 0x40 ? SMCCC_SMC64 : SMCCC_FAST_CALL) : id;
    }
    case 2: return VMM_CALL_BASE + fuzz_u8(in);
    default: return fuzz_u32(in);
    }
}

/* An argument: raw, an address in RAM, a small number, a length, or a
 * function ID (for the features query). */
static uint64_t pick_arg(struct fuzz_input *in, const struct vm *vm)
{
    uint8_t b = fuzz_u8(in);

    switch (b % 5) {
    case 0: return fuzz_u64(in);
    case 1: return vm->mem.ram->gpa + fuzz_u16(in) % (vm->mem.ram->size + 16);
    case 2: return b / 5;
    case 3: return fuzz_u16(in) % 5000;
    default: return call_table[b / 5 % call_table_len].first;
    }
}

static void x86_call(struct fuzz_input *in, struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    struct kvm_run *run = vcpu->run;
    uint64_t input = pick_id(in);
    uint8_t shape = fuzz_u8(in);
    unsigned cpl = (shape & 0x18) == 0x18 ? shape & 3 : 0;
    bool hcall = shape != 0xff;
    struct kvm_regs before;
    uint64_t total = stats_total(vm);
    bool stopped = vm_is_stopping(vm);
    call_verdict v;

    if (shape & 0x20)
        input |= (uint64_t)fuzz_u32(in) << 32;
    memset(run, 0, sizeof(*run));
    run->exit_reason = KVM_EXIT_XEN;
    run->xen.type = hcall ? KVM_EXIT_XEN_HCALL : fuzz_u8(in);
    run->xen.u.hcall.input = input;
    run->xen.u.hcall.cpl = cpl;
    for (int i = 0; i < 4; i++)
        run->xen.u.hcall.params[i] = pick_arg(in, vm);
    memset(&fake_kvm.regs, 0, sizeof(fake_kvm.regs));
    fake_kvm.regs.rax = input;
    fake_kvm.regs.rip = 0x1000 + shape;
    memset(&fake_kvm.events, 0, sizeof(fake_kvm.events));
    fake_kvm.run = run;
    fake_kvm.fail = (shape & 0x40) ? fuzz_u8(in) & 0x1f : 0;
    before = fake_kvm.regs;
    host.conduit = CONDUIT_VMCALL;

    x86_handle_vmcall(vcpu);

    FUZZ_CHECK(!__atomic_load_n(&run->immediate_exit, __ATOMIC_RELAXED) || vm_is_stopping(vm));
    if (run->xen.type != KVM_EXIT_XEN_HCALL) {
        /* Not a hypercall: a crash, nothing dispatched. */
        FUZZ_CHECK(stats_total(vm) == total);
        FUZZ_CHECK(stopped || vm->stop.reason == VM_STOP_CRASH);
        return;
    }
    if (!x86_hypercall_is_vmm(input)) {
        /* KVM's own hypercall numbers get KVM's answer: not vmm's calls,
         * so not counted, never a fault. */
        FUZZ_CHECK(stats_total(vm) == total);
        FUZZ_CHECK(!fake_kvm.events.exception.injected);
        return;
    }
    FUZZ_CHECK(stats_total(vm) == total + 1);
    v = call_decide(&vm->calls->policy, call_lookup(input > UINT32_MAX ? 0 : (uint32_t)input), cpl);
    if (v == CALL_REFUSED_NO_CALLS || v == CALL_REFUSED_PRIVILEGE) {
        /* The fault is raised at the vmcall: registers as before it. */
        if (vm_is_stopping(vm) && !stopped) {
            FUZZ_CHECK(vm->stop.reason == VM_STOP_ERROR && fake_kvm.fail);
            return;
        }
        if (fake_kvm.fail)
            return;
        FUZZ_CHECK(fake_kvm.events.exception.injected);
        FUZZ_CHECK(fake_kvm.events.exception.nr ==
                   (v == CALL_REFUSED_NO_CALLS ? X86_UD : X86_GP));
        FUZZ_CHECK(fake_kvm.events.exception.has_error_code == (v == CALL_REFUSED_PRIVILEGE));
        FUZZ_CHECK(fake_kvm.regs.rip == before.rip && fake_kvm.regs.rax == before.rax);
        return;
    }
    FUZZ_CHECK(!fake_kvm.events.exception.injected);
    if (v != CALL_ALLOWED)
        FUZZ_CHECK(run->xen.u.hcall.result == RET_EINVAL);
}

/* x0-x4 of the aarch64 vCPU, each access counted (an ioctl there). */
struct arm_regs {
    struct smccc_regs ops;
    uint64_t x[5];
    unsigned reads, writes;    /* bit n: xn read / written */
    unsigned fail_read;        /* bit n: reading xn fails */
};

static bool arm_get(struct smccc_regs *regs, unsigned n, uint64_t *value)
{
    struct arm_regs *r = (struct arm_regs *)regs;

    FUZZ_CHECK(n >= 1 && n <= 4 && !(r->reads & (1U << n)));
    r->reads |= 1U << n;
    *value = r->x[n];
    return !(r->fail_read & (1U << n));
}

static bool arm_set(struct smccc_regs *regs, unsigned n, uint64_t value)
{
    struct arm_regs *r = (struct arm_regs *)regs;

    FUZZ_CHECK(n <= 3 && !(r->writes & (1U << n)));
    r->writes |= 1U << n;
    r->x[n] = value;
    return true;
}

static void arm_call(struct fuzz_input *in, struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    uint64_t nr = pick_id(in), flags = fuzz_u8(in) & 3;
    struct arm_regs r = { .ops = { arm_get, arm_set } };
    uint64_t total = stats_total(vm);
    unsigned forwarded = host.forwarded, want, got;
    const struct call_entry *e;
    uint64_t *x = r.x;
    call_verdict v;

    x[0] = nr;
    for (int i = 1; i <= 4; i++)
        x[i] = pick_arg(in, vm);
    if ((fuzz_u8(in) & 0xf) == 0)
        r.fail_read = fuzz_u8(in) & 0x1e;
    host.conduit = (flags & SMCCC_EXIT_SMC) ? CONDUIT_SMC : CONDUIT_HVC;

    smccc_call(vcpu, nr, flags, &r.ops);

    FUZZ_CHECK(stats_total(vm) == total + 1);
    e = call_lookup((uint32_t)nr);
    v = call_decide(&vm->calls->policy, e, 0);
    if (v != CALL_ALLOWED) {
        /* A refusal reads nothing and writes x0-x3 whole. */
        FUZZ_CHECK(r.reads == 0 && r.writes == 0xf);
        FUZZ_CHECK(x[0] == RET_NOT_SUPPORTED);
        for (int i = 1; i < 4; i++)
            FUZZ_CHECK(x[i] == 0);
        return;
    }
    /* Allowed: the handler's arguments alone (a monitor's four), from x1
     * on; a failed read ends it there with nothing written. */
    want = host.forwarded != forwarded ? 4 : e->nr_args;
    got = (unsigned)__builtin_popcount(r.reads);
    FUZZ_CHECK(r.reads == (1U << (got + 1)) - 2 && got <= want);
    if (r.reads & r.fail_read) {
        FUZZ_CHECK(r.fail_read & (1U << got));
        FUZZ_CHECK(r.writes == 0);
        return;
    }
    FUZZ_CHECK(got == want);
    FUZZ_CHECK(r.writes == 0xf || r.writes == (1U << e->nr_results) - 1);
    if (!((uint32_t)nr & SMCCC_SMC64)) {
        /* SMC32: results in w0-w3; only a refusal fills all of x0. */
        FUZZ_CHECK(x[0] <= UINT32_MAX || x[0] == RET_NOT_SUPPORTED ||
                   x[0] == (uint64_t)(int64_t)VMM_RET_INVALID);
        for (int i = 1; i < 4; i++)
            FUZZ_CHECK(!(r.writes & (1U << i)) || x[i] <= UINT32_MAX);
    }
}

static void ucall_op(struct fuzz_input *in, struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    uint8_t mode = fuzz_u8(in);
    uint64_t own = vm->calls->ucall_gpa + vcpu->id * PAGE, gpa;
    struct vmm_ucall *u = gpa_to_hva(&vm->mem, own, sizeof(*u));
    uint64_t rejected = vm->calls->stats.ucall_rejected, total = stats_total(vm);
    struct vmm_ucall *live;
    uint64_t printed = fake_console.bytes;
    unsigned forwarded = host.forwarded;
    size_t n;

    FUZZ_CHECK(u);
    /* The guest fills its structure; `self` is vmm's and usually intact. */
    u->cmd = pick_id(in);
    u->arg = pick_arg(in, vm);
    u->line = fuzz_u16(in);
    u->file_len = fuzz_u16(in) % 4200;
    u->text_len = fuzz_u16(in) % 4200;
    n = fuzz_u8(in);
    fuzz_bytes(in, u->text, n);
    if (mode & 0x80)
        u->self = fuzz_u64(in);
    switch (mode & 7) {
    case 6: gpa = vm->calls->ucall_gpa + (fuzz_u8(in) % MAX_VCPUS) * PAGE + fuzz_u8(in) % 3 * 8; break;
    case 7: gpa = fuzz_u64(in); break;
    default: gpa = own; break;
    }
    host.conduit = CONDUIT_UCALL;

    ucall_ring(vcpu, gpa);

    live = gpa_to_hva(&vm->mem, gpa, sizeof(*live));
    if (vm->calls->stats.ucall_rejected != rejected) {
        /* Refused before any call: counted once, nothing dispatched. */
        FUZZ_CHECK(vm->calls->stats.ucall_rejected == rejected + 1);
        FUZZ_CHECK(stats_total(vm) == total);
        return;
    }
    FUZZ_CHECK(gpa == own && live == u);
    FUZZ_CHECK(stats_total(vm) == total + 1);
    if (call_decide(&vm->calls->policy, call_lookup(u->cmd), 0) != CALL_ALLOWED) {
        FUZZ_CHECK(live->ret[0] == VMM_RET_NOT_SUPPORTED);
        FUZZ_CHECK(fake_console.bytes == printed);
    } else if (u->cmd == VMM_CALL_UCALL_PRINT && host.forwarded == forwarded) {
        /* The message, without the file name, and nothing else. */
        FUZZ_CHECK(fake_console.bytes - printed == u->text_len - u->file_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size, 0 };
    struct vm vm;
    struct vcpu vcpus[MAX_VCPUS];
    unsigned conduit = fuzz_u8(&in) % NR_CONDUITS;
    uint64_t ram_size, ram_base;
    uint8_t *ram;
    unsigned log_before;

    if (!console)
        console = fake_console_new();
    FUZZ_CHECK(call_table_check());
    fake_vm_reset();
    fake_kvm_reset();
    fake_vm_init(&vm, "fuzz-vm");
    vm.calls = vm_calls_new();
    vm.console = console;

    /* Policy: any role, flags and services a config could give. */
    vm.calls->policy.role = fuzz_u8(&in) & 1 ? VM_ROLE_SERVICE : VM_ROLE_RESTRICTED;
    vm.calls->policy.flags = fuzz_u8(&in) & (GUEST_FLAG(GUEST_FLAG_COUNT) - 1);
    vm.calls->policy.services = fuzz_u64(&in) & policy_supported_services();
    policy_update(&vm.calls->policy);

    /* Shape: vCPUs, RAM where a guest can name it, the ucall area in it. */
    vm.nr_vcpus = 1 + fuzz_u8(&in) % MAX_VCPUS;
    ram_size = (vm.nr_vcpus + fuzz_u8(&in) % 5) * PAGE;
    switch (fuzz_u8(&in) % 3) {
    case 0: ram_base = 0; break;
    case 1: ram_base = 0x40000000; break;
    default:
        ram_base = fuzz_u64(&in);
        ram_base = MIN(ram_base, UINT64_MAX - ram_size + 1) & ~(PAGE - 1);
        break;
    }
    ram = g_malloc0(ram_size);
    vm.mem.regions[0] = (struct mem_region){ .gpa = ram_base, .size = ram_size, .hva = ram };
    vm.mem.nr = 1;
    vm.mem.ram = &vm.mem.regions[0];
    vm.ram_size = ram_size;
    ucall_area_init(&vm, ram_base + fuzz_u8(&in) % (ram_size / PAGE - vm.nr_vcpus + 1) * PAGE);
    memset(vcpus, 0, sizeof(vcpus));
    vm.vcpus = vcpus;
    for (unsigned i = 0; i < vm.nr_vcpus; i++) {
        vcpus[i].vm = &vm;
        vcpus[i].id = i;
        vcpus[i].fd = -1;
        vcpus[i].run = g_malloc0(sizeof(struct kvm_run));
    }

    /* Host: none (plain vmm run), or the manager with maybe a monitor. */
    memset(&host, 0, sizeof(host));
    host.vm = &vm;
    {
        uint8_t h = fuzz_u8(&in);

        if (h & 1)
            vm.calls->host = &host_ops;
        host.result = (h & 2) ? -(int)(fuzz_u8(&in) % 40) : 0;
        host.monitor = h & 4;
        if (host.monitor) {
            host.first = pick_id(&in);
            host.last = (h & 8) ? host.first : pick_id(&in);
            host.status = fuzz_u8(&in) % 3;
            for (int i = 0; i < 4; i++)
                host.ret[i] = fuzz_u64(&in);
        }
    }

    for (int op = 0; op < MAX_OPS && fuzz_more(&in); op++) {
        struct vcpu *vcpu = &vcpus[fuzz_u8(&in) % vm.nr_vcpus];
        unsigned refused = host.refused;

        log_before = fake_vm.log_lines;
        switch (conduit) {
        case CONDUIT_X86: x86_call(&in, vcpu); break;
        case CONDUIT_ARM: arm_call(&in, vcpu); break;
        default: ucall_op(&in, vcpu); break;
        }
        /* A refusal reaches the host at most once, with its log line. */
        FUZZ_CHECK(host.refused <= refused + 1);
        FUZZ_CHECK(host.refused == refused || fake_vm.log_lines > log_before);
    }

    for (unsigned i = 0; i < vm.nr_vcpus; i++)
        g_free(vcpus[i].run);
    g_free(ram);
    vm_calls_free(vm.calls);
    fake_vm_clear(&vm);
    return 0;
}
