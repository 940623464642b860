/*
 * ACPI PM1a event and control blocks, for S3 the legacy way.
 *
 * vmm's FADT stays hardware-reduced (Linux powers off through the sleep
 * register, acpi_sleep.c, and ignores these blocks); the FADT also
 * points at these and at a FACS, which kernels that drive fixed hardware
 * regardless (kvm-unit-tests' s3) use. There is no \_S3 in the DSDT, so
 * Linux never offers suspend to RAM.
 *
 * S3: the writing vCPU sleeps, counted as still (a pause or a stop of the
 * VM is honoured meanwhile), until the CMOS RTC's next alarm if RTC_EN is
 * set in PM1a_EN and the RTC's alarm interrupt is enabled; with no wake-up
 * source it sleeps until the VM is stopped (a signal, the control
 * socket, --timeout). It wakes with WAK_STS (and RTC_STS) set, in real
 * mode at the FACS's waking vector; memory and the devices keep their
 * state. Only a one-vCPU VM: the other vCPUs' own sleep and wake would
 * need them stopped and restarted in step, which vmm does not do.
 */
#include <string.h>

#include "vmm/arch.h"
#include "vmm/hw/acpi_pm1.h"
#include "vmm/hw/aml.h"
#include "vmm/hw/mc146818.h"
#include "vmm/iobus.h"
#include "vmm/vm.h"
#include "vmm/wait.h"

#define PM1_STS      0      /* 16 bits, write 1 to clear */
#define PM1_EN       2      /* 16 bits */
#define PM1_CNT      4      /* 16 bits */
#define STS_RTC      0x0400
#define STS_WAK      0x8000
#define EN_RTC       0x0400
#define CNT_SCI_EN   0x0001 /* read as set: ACPI mode, nothing to switch */
#define CNT_SLP_TYP(v) (((v) >> 10) & 0x7)
#define CNT_SLP_EN   0x2000 /* write-only */

struct acpi_pm1 {
    GMutex lock;
    uint16_t sts, en, cnt;
    struct vmm_wait sleep;  /* the sleeping vCPU's, which a stop of the VM wakes */
};

static bool vm_stopping(void *data)
{
    return vm_is_stopping(data);
}

static void s3(struct vcpu *vcpu, struct acpi_pm1 *pm)
{
    struct vm *vm = vcpu->vm;
    struct mc146818 *rtc = devices_state_of(&vm->devices, &mc146818_device);
    int64_t wake = G_MAXINT64;
    bool by_rtc = false, woke;
    GError *err = NULL;

    if (vm->nr_vcpus != 1) {
        vcpu_crash(vcpu, "S3 sleep with %u vCPUs (vmm wakes only a one-vCPU guest from S3)",
                   vm->nr_vcpus);
        return;
    }
    g_mutex_lock(&pm->lock);
    by_rtc = (pm->en & EN_RTC) && rtc &&
             mc146818_next_alarm(rtc, g_get_monotonic_time(), &wake);
    g_mutex_unlock(&pm->lock);

    vm_blocking_begin(vm, &pm->sleep);
    vmm_wait_lock(&pm->sleep);
    woke = !vmm_wait_until(&pm->sleep, wake, vm_stopping, vm);
    vmm_wait_unlock(&pm->sleep);
    vm_blocking_end(vm, &pm->sleep);
    if (!woke)
        return; /* the VM is stopping */

    g_mutex_lock(&pm->lock);
    pm->sts |= STS_WAK | (by_rtc ? STS_RTC : 0);
    g_mutex_unlock(&pm->lock);
    if (!arch_vcpu_s3_resume(vcpu, &err)) {
        vcpu_crash(vcpu, "S3 resume: %s", err->message);
        g_error_free(err);
    }
}

static void pm1_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    struct acpi_pm1 *pm = opaque;
    bool sleep = false;

    g_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < len; i++, offset++) {
        unsigned shift = (offset & 1) * 8;
        uint16_t *reg = offset < PM1_EN ? &pm->sts : offset < PM1_CNT ? &pm->en
                      : offset < ACPI_PM1_PORTS ? &pm->cnt : NULL;

        if (!reg) {
            if (!is_write)
                data[i] = 0xff;
            continue;
        }
        if (!is_write) {
            data[i] = (reg == &pm->cnt ? (*reg | CNT_SCI_EN) & ~CNT_SLP_EN : *reg) >> shift;
        } else if (reg == &pm->sts) {
            *reg &= ~((uint16_t)data[i] << shift);
        } else {
            *reg = (*reg & ~(0xff << shift)) | (uint16_t)data[i] << shift;
        }
    }
    /* SLP_EN acts once the whole access is in (a 16-bit write sets the
     * type and SLP_EN together); other sleep types are not offered. */
    if (is_write && (pm->cnt & CNT_SLP_EN)) {
        pm->cnt &= ~CNT_SLP_EN;
        sleep = CNT_SLP_TYP(pm->cnt) == ACPI_S3_SLP_TYP;
    }
    g_mutex_unlock(&pm->lock);
    if (sleep)
        s3(vcpu, pm);
}

static bool pm1_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct acpi_pm1 *pm = g_new0(struct acpi_pm1, 1);

    g_mutex_init(&pm->lock);
    vmm_wait_init(&pm->sleep);
    dev->state = pm;
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, ACPI_PM1_PORTS, pm1_io, pm,
                          "acpi-pm1", error);
}

static void pm1_reset(struct device *dev)
{
    struct acpi_pm1 *pm = dev->state;

    g_mutex_lock(&pm->lock);
    pm->sts = pm->en = pm->cnt = 0;
    g_mutex_unlock(&pm->lock);
}

static void pm1_destroy(struct device *dev)
{
    struct acpi_pm1 *pm = dev->state;

    g_mutex_clear(&pm->lock);
    vmm_wait_clear(&pm->sleep);
    g_free(pm);
}

static void pm1_acpi(const struct device *dev, struct device_acpi *a)
{
    a->pm1_evt_port = dev->desc->base;
    a->pm1_cnt_port = dev->desc->base + PM1_CNT;
}

const struct device_ops acpi_pm1_device = {
    .name = "acpi-pm1",
    .realize = pm1_realize,
    .reset = pm1_reset,
    .destroy = pm1_destroy,
    .acpi = pm1_acpi,
};
