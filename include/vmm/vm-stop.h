/*
 * Why and how a VM stopped: the one record a VM keeps (struct vm's stop),
 * the VM manager reports (SHUTDOWN) and asks for (manager_end), without
 * the rest of struct vm.
 */
#ifndef VMM_VM_STOP_H
#define VMM_VM_STOP_H

typedef enum {
    VM_STOP_NONE,
    VM_STOP_GUEST_EXIT, /* the guest chose a status (exit device) */
    VM_STOP_POWEROFF,   /* PSCI SYSTEM_OFF and the like: status 0 */
    VM_STOP_RESET,      /* the guest asked for a reset: the VM ends, status 0 */
    VM_STOP_CRASH,      /* triple fault, internal error, unhandled exception */
    VM_STOP_SIGNAL,     /* SIGINT/SIGTERM to vmm */
    VM_STOP_TIMEOUT,    /* the run's time limit passed */
    VM_STOP_ERROR,      /* a KVM or host error while running */
    VM_STOP_HOST,       /* ended by its manager (control socket, service VM) */
    VM_STOP_PANIC,      /* the guest kernel panicked (status 121) */
} vm_stop_reason;

struct vm_stop {
    vm_stop_reason reason;
    int status;       /* vmm's exit status for this stop */
    char *message;    /* for the user, NULL when there is nothing to say */
};

#endif
