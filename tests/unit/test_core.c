/* Unit tests of the core that need no KVM: I/O registry, ELF checks, sizes. */
#include <check.h>
#include <elf.h>
#include <string.h>

#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/iobus.h"
#include "vmm/loader.h"
#include "vmm/vm.h"

#include "unit.h"

static unsigned calls;
static uint64_t last_offset;

static void count_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                     unsigned len, bool is_write)
{
    calls++;
    last_offset = offset;
    if (!is_write)
        memset(data, 0x5a, len);
}

START_TEST(iobus_routes_and_rejects_overlap)
{
    struct iobus bus;
    GError *err = NULL;
    uint8_t buf[4];

    iobus_init(&bus);
    ck_assert(iobus_register(&bus, IOBUS_PIO, 0x3f8, 8, count_io, NULL, "uart", &err));
    ck_assert(iobus_register(&bus, IOBUS_PIO, 0xf4, 4, count_io, NULL, "exit", &err));
    ck_assert(iobus_register(&bus, IOBUS_MMIO, 0x3f8, 8, count_io, NULL, "other bus", &err));
    ck_assert(!iobus_register(&bus, IOBUS_PIO, 0x3fc, 8, count_io, NULL, "clash", &err));
    ck_assert_ptr_nonnull(strstr(err->message, "overlaps uart"));
    g_clear_error(&err);
    ck_assert(!iobus_register(&bus, IOBUS_PIO, 0x3f0, 9, count_io, NULL, "clash2", &err));
    g_clear_error(&err);
    ck_assert(!iobus_register(&bus, IOBUS_MMIO, UINT64_MAX - 1, 4, count_io, NULL, "wrap", &err));
    g_clear_error(&err);
    ck_assert(!iobus_register(&bus, IOBUS_MMIO, 0x1000, 0, count_io, NULL, "empty", &err));
    g_clear_error(&err);

    calls = 0;
    iobus_access(&bus, IOBUS_PIO, NULL, 0x3fd, buf, 1, false);
    ck_assert_uint_eq(calls, 1);
    ck_assert_uint_eq(last_offset, 5);
    ck_assert_uint_eq(buf[0], 0x5a);
    ck_assert_ptr_null(iobus_find(&bus, IOBUS_PIO, 0x400));
    ck_assert_ptr_null(iobus_find(&bus, IOBUS_PIO, 0x3f7));
    ck_assert_ptr_nonnull(iobus_find(&bus, IOBUS_PIO, 0xf7));
    /* Unclaimed reads float high and are counted, never crash. */
    iobus_access(&bus, IOBUS_PIO, NULL, 0x80, buf, 4, false);
    ck_assert_uint_eq(buf[3], 0xff);
    ck_assert_uint_eq(bus.unclaimed[IOBUS_PIO], 1);
    ck_assert_uint_eq(calls, 1);
    iobus_destroy(&bus);
}
END_TEST

START_TEST(sizes_parse)
{
    uint64_t b;

    ck_assert(config_parse_size("64M", &b) && b == 64ULL << 20);
    ck_assert(config_parse_size("2G", &b) && b == 2ULL << 30);
    ck_assert(config_parse_size("512k", &b) && b == 512ULL << 10);
    ck_assert(config_parse_size("1GiB", &b) && b == 1ULL << 30);
    ck_assert(config_parse_size("4096", &b) && b == 4096);
    ck_assert(!config_parse_size("", &b));
    ck_assert(!config_parse_size("M", &b));
    ck_assert(!config_parse_size("-1M", &b));
    ck_assert(!config_parse_size("64Q", &b));
    ck_assert(!config_parse_size("99999999999999999999G", &b));
    ck_assert(!config_parse_size("17179869184G", &b)); /* overflows 64 bits */
}
END_TEST

START_TEST(elf_checks)
{
    uint8_t img[512], ram[0x400];
    struct load_target t = { .e_machine = EM_X86_64, .lo = 0x100, .hi = 0x400 };
    uint64_t entry;
    GError *err = NULL;
    size_t n;

    n = unit_make_elf(img, EM_X86_64, 0x200, 0x40, 0x210);
    ck_assert(elf_load("ok.elf", img, n, &t, &entry, &err));
    ck_assert_uint_eq(entry, 0x210);

    /* Loads, zero-filling past p_filesz. */
    memset(ram, 0x11, sizeof(ram));
    t.ram = ram;
    t.ram_gpa = 0;
    ck_assert(elf_load("ok.elf", img, n, &t, &entry, &err));
    ck_assert_uint_eq(ram[0x200], 0xab);
    ck_assert_uint_eq(ram[0x20f], 0xab);
    ck_assert_uint_eq(ram[0x210], 0);
    ck_assert_uint_eq(ram[0x23f], 0);
    ck_assert_uint_eq(ram[0x240], 0x11);
    t.ram = NULL;

    n = unit_make_elf(img, EM_AARCH64, 0x200, 0x40, 0x210);
    ck_assert(!elf_load("arm.elf", img, n, &t, &entry, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "image is for aarch64, but this host runs x86_64"));
    g_clear_error(&err);

    n = unit_make_elf(img, EM_X86_64, 0x300, 0x200, 0x300);
    ck_assert(!elf_load("big.elf", img, n, &t, &entry, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "does not fit in guest RAM"));
    g_clear_error(&err);

    n = unit_make_elf(img, EM_X86_64, UINT64_MAX - 8, 0x20, UINT64_MAX - 8);
    ck_assert(!elf_load("wrap.elf", img, n, &t, &entry, &err));
    g_clear_error(&err);

    n = unit_make_elf(img, EM_X86_64, 0x200, 0x40, 0x300);
    ck_assert(!elf_load("entry.elf", img, n, &t, &entry, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "entry point"));
    g_clear_error(&err);

    ck_assert(!elf_load("text.elf", (const uint8_t *)"hello", 5, &t, &entry, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "not an ELF image"));
    g_clear_error(&err);

    /* Program headers pointing past the end of the file. */
    n = unit_make_elf(img, EM_X86_64, 0x200, 0x40, 0x210);
    ((Elf64_Ehdr *)img)->e_phnum = 200;
    ck_assert(!elf_load("ph.elf", img, n, &t, &entry, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "corrupt program headers"));
    g_clear_error(&err);
}
END_TEST

/* Guest memory alone, as loaders and handlers get it: a range must lie
 * wholly in one region, whatever the sums of its hostile ends. */
START_TEST(guest_mem_translates_and_refuses)
{
    uint8_t low[0x100], high[0x100];
    struct guest_mem mem = {
        .regions = { { .gpa = 0x1000, .size = sizeof(low), .hva = low },
                     { .gpa = 0x1100, .size = sizeof(high), .hva = high } },
        .nr = 2,
    };
    GError *err = NULL;

    ck_assert_ptr_eq(gpa_to_hva(&mem, 0x1000, 0x100), low);
    ck_assert_ptr_eq(gpa_to_hva(&mem, 0x1180, 0x80), high + 0x80);
    ck_assert_ptr_eq(gpa_to_hva(&mem, 0x1200, 0), high + 0x100);
    ck_assert_ptr_null(gpa_to_hva(&mem, 0x10f0, 0x20));       /* spans two regions */
    ck_assert_ptr_null(gpa_to_hva(&mem, 0x1180, UINT64_MAX));  /* wraps */
    ck_assert_ptr_null(gpa_to_hva(&mem, 0xfff, 1));
    memset(high, 0, sizeof(high));
    ck_assert(guest_copy_in(&mem, 0x1110, "abc", 3, "x", &err));
    ck_assert_str_eq((char *)high + 0x10, "abc");
    ck_assert(guest_fill(&mem, 0x1111, 'z', 2, "x", &err));
    ck_assert_str_eq((char *)high + 0x10, "azz");
    ck_assert(!guest_copy_in(&mem, 0x11f0, "0123456789abcdefg", 17, "initrd", &err));
    ck_assert_str_eq(err->message, "initrd: 17 bytes at 0x11f0 lie outside guest RAM");
    g_clear_error(&err);
    ck_assert(!guest_fill(&mem, 0x2000, 0, 1, "cmdline", &err));
    ck_assert_str_eq(err->message, "cmdline: 1 bytes at 0x2000 lie outside guest RAM");
    g_clear_error(&err);
}
END_TEST

/* Core reaches the calls layer only through vm_calls_ops: its start hook
 * runs before any vCPU and can refuse the start, and its state is freed
 * with the VM, once. */
static struct {
    unsigned starts, destroys;
    bool refuse;
    char state;              /* what create() hands back: opaque to core */
} hook;

static struct vm_calls *hook_create(void)
{
    return (struct vm_calls *)&hook.state;
}

static bool hook_start(struct vm *vm, GError **error)
{
    hook.starts++;
    if (hook.refuse)
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: refused by the calls layer",
                    vm->name);
    return !hook.refuse;
}

static void hook_destroy(struct vm_calls *state)
{
    ck_assert_ptr_eq(state, &hook.state);
    hook.destroys++;
}

START_TEST(calls_hook_starts_and_frees)
{
    static const struct vm_calls_ops ops = { hook_create, hook_start, hook_destroy };
    struct vm *vm = g_new0(struct vm, 1);   /* vm_create() minus KVM: no vCPUs */
    GError *err = NULL;

    vm->name = g_strdup("t");
    vm->fd = -1;
    g_mutex_init(&vm->lock);
    g_cond_init(&vm->cond);
    iobus_init(&vm->iobus);
    vm->calls_ops = &ops;
    vm->calls = ops.create();
    hook.refuse = true;
    ck_assert(!vm_start(vm, &err));
    ck_assert_str_eq(err->message, "t: refused by the calls layer");
    g_clear_error(&err);
    hook.refuse = false;
    ck_assert(vm_start(vm, &err));
    ck_assert_uint_eq(hook.starts, 2);
    ck_assert_uint_eq(hook.destroys, 0);
    vm_destroy(vm);
    ck_assert_uint_eq(hook.destroys, 1);
}
END_TEST

START_TEST(exit_statuses)
{
    GError *e = g_error_new(VMM_ERROR, VMM_ERROR_NO_KVM, "x");

    ck_assert_int_eq(vmm_error_exit_status(e), 126);
    e->code = VMM_ERROR_CONFIG;
    ck_assert_int_eq(vmm_error_exit_status(e), 125);
    e->code = VMM_ERROR_KVM;
    ck_assert_int_eq(vmm_error_exit_status(e), 127);
    g_error_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, iobus_routes_and_rejects_overlap);
    tcase_add_test(tc, sizes_parse);
    tcase_add_test(tc, elf_checks);
    tcase_add_test(tc, guest_mem_translates_and_refuses);
    tcase_add_test(tc, calls_hook_starts_and_frees);
    tcase_add_test(tc, exit_statuses);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
