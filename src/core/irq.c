#include <linux/kvm.h>

#include "vmm/error.h"
#include "vmm/irq.h"
#include "vmm/kvm.h"

void irq_line_init(struct irq_line *line, int vm_fd, uint32_t kvm_irq)
{
    line->vm_fd = vm_fd;
    line->kvm_irq = kvm_irq;
    line->level = -1;
    line->failed = false;
    line->wire = NULL;
}

void irq_wire_init(struct irq_wire *wire, int vm_fd, uint32_t kvm_irq)
{
    g_mutex_init(&wire->lock);
    wire->vm_fd = vm_fd;
    wire->kvm_irq = kvm_irq;
    wire->asserted = 0;
    wire->level = -1;
    wire->failed = false;
}

void irq_wire_clear(struct irq_wire *wire)
{
    g_mutex_clear(&wire->lock);
}

void irq_line_init_shared(struct irq_line *line, struct irq_wire *wire)
{
    irq_line_init(line, wire->vm_fd, wire->kvm_irq);
    line->wire = wire;
}

static int send_level(int vm_fd, uint32_t kvm_irq, bool level, bool *failed)
{
    struct kvm_irq_level l = { .irq = kvm_irq, .level = level };
    int r = __vmm_ioctl(vm_fd, KVM_IRQ_LINE, &l);

    if (r < 0 && !*failed) {
        *failed = true;
        vmm_log("KVM_IRQ_LINE %#x: %s; the device's interrupts are lost", kvm_irq,
                g_strerror(-r));
    }
    return r;
}

int irq_line_set(struct irq_line *line, bool level)
{
    struct irq_wire *w = line->wire;
    bool was = line->level == 1, want;
    int r = 0;

    if (line->level == (int)level)
        return 0;
    line->level = level;
    if (!w)
        return send_level(line->vm_fd, line->kvm_irq, level, &line->failed);
    g_mutex_lock(&w->lock);
    if (level && !was)
        w->asserted++;
    else if (!level && was)
        w->asserted--;
    want = w->asserted > 0;
    if (w->level != (int)want) {
        w->level = want;
        r = send_level(w->vm_fd, w->kvm_irq, want, &w->failed);
    }
    g_mutex_unlock(&w->lock);
    return r;
}
