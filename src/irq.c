#include <linux/kvm.h>

#include "vmm/irq.h"
#include "vmm/kvm.h"
#include "vmm/vm.h"

void irq_line_init(struct irq_line *line, struct vm *vm, uint32_t kvm_irq)
{
    line->vm_fd = vm->fd;
    line->kvm_irq = kvm_irq;
    line->level = -1;
}

int irq_line_set(struct irq_line *line, bool level)
{
    struct kvm_irq_level l = { .irq = line->kvm_irq, .level = level };

    if (line->level == (int)level)
        return 0;
    line->level = level;
    return __vmm_ioctl(line->vm_fd, KVM_IRQ_LINE, &l);
}
