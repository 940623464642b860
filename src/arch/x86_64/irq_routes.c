/* x86_64's default KVM routes (vmm/arch.h): what KVM_CREATE_IRQCHIP set
 * up, which vm.c's routing table keeps in every table it sends. Its own
 * file so that a fuzzer links the real table without the Linux loader. */
#include <linux/kvm.h>

#include "vmm/arch.h"

/* KVM_CREATE_IRQCHIP's own table (KVM's default routing): GSIs 0-15 on
 * both the IOAPIC pin and the PIC pin of that number (master 0-7, slave
 * 8-15), 16-23 on the IOAPIC only. INTx (IOAPIC pins 16-19), the ISA
 * devices and a pci=nomsi guest rely on every one of them. */
struct kvm_irq_routing_entry *arch_irq_default_routes(struct vm *vm, unsigned *n,
                                                      GError **error)
{
    struct kvm_irq_routing_entry *e = g_new0(struct kvm_irq_routing_entry, 24 + 16);
    unsigned k = 0;

    for (uint32_t gsi = 0; gsi < 24; gsi++) {
        e[k++] = (struct kvm_irq_routing_entry){
            .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
        };
        if (gsi < 16)
            e[k++] = (struct kvm_irq_routing_entry){
                .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
                .u.irqchip = { .irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
                                                  : KVM_IRQCHIP_PIC_SLAVE,
                               .pin = gsi % 8 },
            };
    }
    *n = k;
    return e;
}
