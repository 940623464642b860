/*
 * Every call a guest can make to vmm, declared once. Everything else is
 * expanded from this list: the VMM_CALL_* function IDs (calls.h), vmm's
 * dispatch table and handler prototypes (src/calls/calls.c,
 * include/vmm/calls.h), and the call table of docs/abi.md
 * (tools/abi-reference.c; `ninja -C build update-docs` rewrites it, a
 * test fails while it is stale). Preprocessor only: the freestanding
 * firmware includes it too.
 *
 * VMM_CALL_LIST(X) calls X once per call, sorted by function ID (the
 * dispatcher looks IDs up by bisection; tests/unit/test_calls.c checks the
 * order):
 *   X(CONST, id, name, handler, perm, service, results, nargs, probe, args, returns)
 *     CONST    VMM_CALL_<CONST> is the ID's constant
 *     id       the SMCCC function ID: the ABI, never renumber one
 *     name     how logs, statistics and the control socket name the call
 *     handler  vmm's function that answers it (include/vmm/calls.h)
 *     perm     who may call it: a guest flag (INFO, CONSOLE, UCALL; the
 *              lower-case names of [policy] flags) or SERVICE_ONLY
 *     service  the service it belongs to: VMM_INFO is `vmm-info` in
 *              [policy.services] (and SVC_VMM_INFO in vmm)
 *     results  how many result registers the call fills (ret0..ret3)
 *     nargs    how many argument registers its handler reads (a1..a4):
 *              where each register costs an ioctl (aarch64), only these
 *              are read
 *     probe    1: a discovery query guests make unasked (Linux at boot),
 *              whose refusals are counted but not logged
 *     args, returns  markdown for the docs
 */
#ifndef VMM_GUEST_CALL_LIST_H
#define VMM_GUEST_CALL_LIST_H

#define VMM_CALL_LIST(X) \
    /* Standard vendor-hypervisor service queries (SMCCC), answered by vmm. */ \
    X(VENDOR_HYP_UID, 0x8600ff01U, "vendor-hyp-uid", call_vendor_uid, INFO, VMM_INFO, 4, 0, 1, \
      "-", "vmm's UUID as four 32-bit words (below); vmm answers instead of KVM, so a " \
      "Linux guest does not take vmm for KVM's PTP provider") \
    X(VENDOR_HYP_REVISION, 0x8600ff03U, "vendor-hyp-revision", call_vendor_revision, INFO, \
      VMM_INFO, 2, 0, 1, "-", "major, minor (below)") \
    /* vmm's own functions, from VMM_CALL_BASE. Discovery: */ \
    X(VERSION, 0xc6001000U, "version", call_version, INFO, VMM_INFO, 1, 0, 0, \
      "-", "`(major << 16) \\| minor`") \
    X(FEATURES, 0xc6001001U, "features", call_features, INFO, VMM_INFO, 1, 1, 0, \
      "a1 = function ID", "0 if this VM may make that call, else refused") \
    X(WHOAMI, 0xc6001002U, "whoami", call_whoami, INFO, VMM_INFO, 4, 0, 0, \
      "-", "vCPU index, role (0 restricted, 1 service), VM id (0 under `vmm run`), the " \
      "first 8 bytes of the VM name (little-endian)") \
    /* Console: */ \
    X(CONSOLE_WRITE, 0xc6001010U, "console-write", call_console_write, CONSOLE, VMM_CONSOLE, \
      1, 2, 0, "a1 = address, a2 = length (at most 4096)", \
      "bytes written; invalid if the buffer is not in RAM or too long") \
    /* VM management, service VMs only (answered by the VM manager): */ \
    X(VM_CREATE, 0xc6001020U, "vm-create", call_vm_create, SERVICE_ONLY, VMM_VM, 1, 1, 0, \
      "a1 = index of a host-registered image", "the new VM's id") \
    X(VM_START, 0xc6001021U, "vm-start", call_vm_start, SERVICE_ONLY, VMM_VM, 1, 1, 0, \
      "a1 = VM id", "0") \
    X(VM_STOP, 0xc6001022U, "vm-stop", call_vm_stop, SERVICE_ONLY, VMM_VM, 1, 1, 0, \
      "a1 = VM id", "0") \
    X(VM_DESTROY, 0xc6001023U, "vm-destroy", call_vm_destroy, SERVICE_ONLY, VMM_VM, 1, 1, 0, \
      "a1 = VM id", "0") \
    X(VM_QUERY, 0xc6001024U, "vm-query", call_vm_query, SERVICE_ONLY, VMM_VM, 2, 1, 0, \
      "a1 = VM id", "state (0 prelaunch, 1 running, 2 paused, 3 shut down), exit status") \
    /* ucall commands, made through the ucall doorbell: */ \
    X(UCALL_PRINT, 0xc6001030U, "ucall-print", call_ucall_print, UCALL, VMM_UCALL, 1, 0, 0, \
      "text", "0; the text goes to the console") \
    X(UCALL_SYNC, 0xc6001031U, "ucall-sync", call_ucall_sync, UCALL, VMM_UCALL, 1, 1, 0, \
      "arg = stage", "0; vmm logs `<vm>: vCPU n: sync <stage>`") \
    X(UCALL_DONE, 0xc6001032U, "ucall-done", call_ucall_done, UCALL, VMM_UCALL, 1, 1, 0, \
      "arg = status", "the VM ends with that status") \
    X(UCALL_ABORT, 0xc6001033U, "ucall-abort", call_ucall_abort, UCALL, VMM_UCALL, 1, 0, 0, \
      "file, line, message", "the VM ends with status 1 and `guest assertion failed on " \
      "vCPU n at file:line: message`")

#endif
