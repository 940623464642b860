/*
 * The cost of the vCPU thread's seccomp filter per system call, on the
 * host (no KVM needed): ioctl(-1, KVM_RUN) and ioctl(-1, KVM_IRQ_LINE) (the
 * ioctls an exit makes; -1 so that the kernel answers EBADF at once, and the
 * figure is the syscall path's alone), and getpid(), before and after the
 * filter is installed, in one process. Prints ns per call and the ratios.
 *   build/bench/seccomp [CALLS]   (CALLS per round, default 10000)
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmm/seccomp.h"

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* ns per call of @what, best of 200 rounds of @calls (the minimum: the machine is shared) */
static double per_call(int what, long calls)
{
    double best = 1e18;

    for (int round = 0; round < 200; round++) {
        double t0 = now_ns();

        for (long i = 0; i < calls; i++) {
            switch (what) {
            case 0: ioctl(-1, KVM_RUN, 0); break;
            case 1: ioctl(-1, KVM_IRQ_LINE, 0); break;
            default: syscall(SYS_getpid); break;
            }
        }
        double t = (now_ns() - t0) / calls;
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "ioctl(KVM_RUN)", "ioctl(KVM_IRQ_LINE)", "getpid" };
    long calls = argc > 1 ? atol(argv[1]) : 10000;
    double off[3], on[3];
    GError *error = NULL;

    for (int w = 0; w < 3; w++)
        off[w] = per_call(w, calls);
    /* stdout's first write asks what it is (fstat): before the filter */
    printf("%-22s %10s %10s %8s\n", "system call", "off ns", "on ns", "on/off");
    fflush(stdout);
    if (!vmm_seccomp_enter(VMM_THREAD_VCPU, &error)) {
        fprintf(stderr, "%s\n", error->message);
        return 1;
    }
    for (int w = 0; w < 3; w++)
        on[w] = per_call(w, calls);
    for (int w = 0; w < 3; w++)
        printf("%-22s %10.1f %10.1f %8.3f\n", names[w], off[w], on[w], on[w] / off[w]);
    return 0;
}
