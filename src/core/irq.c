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
}

int irq_line_set(struct irq_line *line, bool level)
{
    struct kvm_irq_level l = { .irq = line->kvm_irq, .level = level };

    int r;

    if (line->level == (int)level)
        return 0;
    line->level = level;
    r = __vmm_ioctl(line->vm_fd, KVM_IRQ_LINE, &l);
    if (r < 0 && !line->failed) {
        line->failed = true;
        vmm_log("KVM_IRQ_LINE %#x: %s; the device's interrupts are lost", line->kvm_irq,
                g_strerror(-r));
    }
    return r;
}
