/*
 * Every QMP command and event, declared once: their members with types and
 * limits, and their documentation (docs/qmp.md's reference is generated
 * from here by tools/qmp-reference.c: edit the text here, then run
 * `ninja -C build update-docs`).
 */
#include <string.h>

#include "vmm/calls.h"
#include "vmm/config.h"
#include "vmm/policy.h"

#include "schema.h"

#define END { NULL }

const struct qmp_member qmp_vm_args[] = {
    { "vm", QMP_T_STR, true,
      .doc = "the VM's name: required under `vmm serve`, optional under `vmm run --qmp` "
             "(the one VM)" },
    END,
};

const struct qmp_member qmp_event_common[] = {
    { "vm", QMP_T_STR, .doc = "the VM's name" },
    { "id", QMP_T_INT, .min = 0, .max = G_MAXINT64, .doc = "the VM's number" },
    END,
};

/* --- Commands ----------------------------------------------------------- */

static const struct qmp_member args_capabilities[] = {
    { "enable", QMP_T_ARRAY, true, .elem = QMP_T_STR,
      .doc = "optional capabilities to turn on (vmm has none)" },
    END,
};

static const struct qmp_member args_vm_create[] = {
    { "name", QMP_T_STR, .max_len = VM_NAME_MAX,
      .doc = "1 to 64 letters, digits and `. _ - + : @`, not starting with `.` or `-`; "
             "it wins over the config's `[vm] name`" },
    { "config", QMP_T_STR_OR_OBJECT,
      .doc = "the path of a VM config file, or the same document as a JSON object, e.g. "
             "`{\"vm\": {\"memory\": \"64M\"}, \"boot\": {\"firmware\": \"hello\"}}`" },
    { "start", QMP_T_BOOL, true, .doc = "start it at once (default false)" },
    END,
};


/* As service_owner_names: a unit test holds the two together. */
static const struct qmp_member policy_services[] = {
    { "standard", QMP_T_ARRAY, true, .elem = QMP_T_STR },
    { "standard-hyp", QMP_T_ARRAY, true, .elem = QMP_T_STR },
    { "vendor-hyp", QMP_T_ARRAY, true, .elem = QMP_T_STR },
    END,
};

static const struct qmp_member args_set_policy[] = {
    { "role", QMP_T_STR, true, .values = policy_role_names, .n_values = POLICY_NR_ROLES,
      .doc = "`service`: it may make the service-only calls (managing the VMs it creates); "
             "`restricted`: only what its flags grant" },
    { "flags", QMP_T_ARRAY, true, .elem = QMP_T_STR, .values = guest_flag_names,
      .n_values = GUEST_FLAG_COUNT, .doc = "the guest flags, all of them" },
    { "services", QMP_T_OBJECT, true, .members = policy_services, .member_noun = "owner",
      .doc = "per owner given, exactly the services to enable (as `[policy.services]`)" },
    END,
};

static const struct qmp_member args_monitor_calls[] = {
    { "first", QMP_T_INT, .min = 0, .max = G_MAXUINT32, .doc = "the first function ID claimed" },
    { "last", QMP_T_INT, .min = 0, .max = G_MAXUINT32, .doc = "the last function ID claimed" },
    { "timeout-ms", QMP_T_INT, true, .min = 1, .max = 600000, .def = 1000,
      .doc = "how long a call waits for its `call-return`" },
    END,
};

static const struct qmp_member args_call_return[] = {
    { "token", QMP_T_INT, .min = 0, .max = G_MAXINT64,
      .doc = "the `GUEST_CALL` event's `token`" },
    { "results", QMP_T_ARRAY, true, .elem = QMP_T_INT, .max_items = 4,
      .doc = "the call's result registers, default all 0; negative values are taken as "
             "two's complement" },
    END,
};

const struct qmp_command_decl qmp_schema_commands[] = {
    { "qmp_capabilities", QMP_CMD_NEGOTIATION, args_capabilities, "`{}`",
      "Leaves capabilities negotiation mode. Errors: `Capability 'X' not available` for any "
      "`enable` entry; `CommandNotFound` `Capabilities negotiation is already complete, "
      "command ignored` when sent again." },
    { "query-version", 0, NULL,
      "`{\"qemu\": {\"major\", \"minor\", \"micro\"}, \"package\": \"vmm X.Y.Z\"}`",
      "vmm's version, in QEMU's shape." },
    { "query-commands", 0, NULL, "`[{\"name\": NAME}, ...]`",
      "Every command on this page." },
    { "query-events", 0, NULL, "`[{\"name\": NAME}, ...]`",
      "Every event on this page." },
    { "vm-create", 0, args_vm_create, "`{}`",
      "The VM is built (KVM VM, RAM, vCPUs, firmware loaded) and left in `prelaunch`, or "
      "started when `start` is true. A config path must name a regular file (a FIFO or a "
      "device is refused at once, never waited on); a TOML error in a file whose name does "
      "not end in `.toml` says where and why but does not quote the file's text. Relative "
      "paths in an inline config are relative to vmm's working folder. Errors: the config's "
      "own (as `vmm run` reports them), `A VM named 'X' exists already`, "
      "`cannot create VM 'X': <why>` without KVM." },
    { "vm-start", QMP_CMD_VM, NULL, "`{}`",
      "Fixes the policy and starts the vCPUs. Event: `VM_STARTED`. Error: not in "
      "`prelaunch`." },
    { "stop", QMP_CMD_VM, NULL, "`{}`",
      "The reply comes once every vCPU is out of the guest (waits at most 2 s; on timeout the VM "
      "keeps running and the error says so). A paused VM stays paused (no error). Event: "
      "`STOP`. Error: not running." },
    { "cont", QMP_CMD_VM, NULL, "`{}`",
      "A running VM is left alone. Event: `RESUME`. Error: not paused (a `prelaunch` VM "
      "needs `vm-start`)." },
    { "system_reset", QMP_CMD_VM, NULL, "`{}`",
      "A real reset: the VM is torn down and built again from its config, with the policy "
      "it has now. It keeps its name and number; `prelaunch` stays `prelaunch`, `paused` "
      "comes back paused (before its first instruction), `running` and `shutdown` come back "
      "running. Event: `RESET` (`guest`: false, `reason`: `host-qmp-system-reset`). If the "
      "rebuild fails, the VM is left `shutdown` with reason `host-error`." },
    { "system_powerdown", QMP_CMD_VM, NULL, "an error",
      "Always an error for a running or paused VM: vmm's machines have no device through "
      "which a guest can be asked to power down (no ACPI power button on x86_64, no GPIO "
      "power key on aarch64), and vmm says so rather than pretend. Use `vm-destroy`." },
    { "vm-destroy", QMP_CMD_VM, NULL, "`{}`",
      "Stops a running VM (no `SHUTDOWN` event is sent for it) and removes it. Event: "
      "`VM_DESTROYED`. VMs a destroyed service guest had created stay, managed by the host "
      "only." },
    { "query-status", QMP_CMD_VM, NULL, "`{\"running\": bool, \"status\": STATE}`",
      "The VM's state." },
    { "query-vms", 0, NULL, "an array",
      "For each VM in creation order: `name`, `id`, `status`, `running`, `role`, [`owner`, "
      "`owner-name`: the service VM that created it], [`exit`: "
      "`{\"reason\", \"status\", \"message\"?}` once it stopped]." },
    { "query-vm", QMP_CMD_VM, NULL, "an object",
      "What `query-vms` has for it plus `vcpus`, `memory` (bytes), `flags`, `firmware` "
      "(path), `arch`, `disks` (in order, `vda` first in a Linux guest: "
      "`{\"path\", \"readonly\": bool, \"serial\"?}`), `shares` (in order: "
      "`{\"path\", \"tag\", \"readonly\": bool}`), `vsock` when it has a vsock "
      "device (`{\"cid\"}`)." },
    { "query-policy", QMP_CMD_VM, NULL,
      "`{\"role\": \"service\" | \"restricted\", \"flags\": [...], \"services\": "
      "{\"standard\": [...], \"standard-hyp\": [...], \"vendor-hyp\": [...]}, "
      "\"manageable\": bool, \"frozen\": bool}`",
      "Names as in the config's `[policy]`." },
    { "set-policy", QMP_CMD_VM, args_set_policy, "`{}`",
      "Absent arguments keep the current value; an owner listed in `services` gets exactly "
      "the services listed (as in `[policy.services]`). Only in `prelaunch`: otherwise "
      "`VM 'X' is running: its policy is fixed once it has run`. Unknown names are errors "
      "naming them. A VM with `[vm] hyperv` takes no policy that allows a call (vmcall is "
      "KVM's Hyper-V's). `manageable` is the manager's, not settable." },
    { "query-hypercall-stats", QMP_CMD_VM, NULL, "an array",
      "One row per entry of the guest call table and a last row for unknown IDs: "
      "`{\"call\": NAME, \"first\": ID, \"last\": ID, \"total\": N, \"verdicts\": "
      "{\"allowed\": N, \"no-calls\": N, \"privilege\": N, \"unknown\": N, "
      "\"service-disabled\": N, \"service-only\": N, \"missing-flags\": N}}`, then "
      "`{\"call\": \"ucall-doorbell\", \"total\": N, \"verdicts\": {\"rejected\": N}}`: "
      "ucall doorbell values refused before they named a call (outside the ucall area, "
      "misaligned, another vCPU's structure, a wrong `self`, text off the buffer)." },
    { "monitor-calls", QMP_CMD_VM, args_monitor_calls, "`{}`",
      "From the VM's first run on, every call with an ID in `[first, last]` that the VM's "
      "policy allows is sent to this client, and only to it, as a `GUEST_CALL` event; the "
      "calling vCPU waits (it counts as still for `stop`) for `call-return`. The policy "
      "decides first: a call it refuses is refused as usual and never reaches the monitor. "
      "If no answer comes within `timeout-ms`, or the client disconnects, the waiting call "
      "and every later call in the range get the architecture's refusal "
      "(`CALL_NOT_SUPPORTED`: SMCCC `-1` on aarch64, `-EINVAL` on x86_64, `-1` through the "
      "ucall channel); the VM runs on. A dead claim keeps its range: nothing else answers "
      "it. Errors: not in `prelaunch`; `first` above `last`; a range overlapping an earlier "
      "claim on the same VM (`claimed already`)." },
    { "call-return", 0, args_call_return, "`{}`",
      "Answers a call a `GUEST_CALL` event reported. Error: no call with that token is "
      "waiting for this client (answered already, timed out, or another client's)." },
    { "quit", 0, NULL, "`{}`",
      "Then vmm stops every VM and exits 0, removing the socket." },
};
const size_t qmp_schema_commands_len = G_N_ELEMENTS(qmp_schema_commands);

/* --- Events ------------------------------------------------------------- */

static const char *const crash_actions[] = { "shutdown" };
static const char *const conduits[] = { "vmcall", "hvc", "smc", "ucall" };

static const struct qmp_member data_reset[] = {
    { "guest", QMP_T_BOOL, .doc = "the guest asked for it" },
    { "reason", QMP_T_STR, .doc = "why" },
    END,
};

static const struct qmp_member data_shutdown[] = {
    { "guest", QMP_T_BOOL, .doc = "the guest chose it" },
    { "reason", QMP_T_STR,
      .doc = "`guest-exit` (exit device), `guest-shutdown` (PSCI `SYSTEM_OFF`), "
             "`guest-reset` (a guest's reset request ends the VM, as under `vmm run`), "
             "`guest-crash`, `guest-panic` (a Linux kernel panic seen on the console), "
             "`host-stop` (stopped by its service guest: status 143), "
             "`host-signal`, `host-timeout`, `host-error`" },
    { "status", QMP_T_INT, .min = G_MININT, .max = G_MAXINT,
      .doc = "what `vmm run` would exit with" },
    END,
};

static const struct qmp_member data_crashed[] = {
    { "action", QMP_T_STR, .values = crash_actions, .n_values = G_N_ELEMENTS(crash_actions) },
    { "message", QMP_T_STR, true, .doc = "the report with registers" },
    END,
};

static const struct qmp_member data_guest_call[] = {
    { "vcpu", QMP_T_INT, .min = 0, .max = G_MAXUINT32 },
    { "conduit", QMP_T_STR, .values = conduits, .n_values = G_N_ELEMENTS(conduits) },
    { "call", QMP_T_INT, .min = 0, .max = G_MAXUINT32, .doc = "the function ID" },
    { "args", QMP_T_ARRAY, .elem = QMP_T_INT, .max_items = 4,
      .doc = "the 4 argument registers, as signed 64-bit integers" },
    { "token", QMP_T_INT, .min = 0, .max = G_MAXINT64, .doc = "for `call-return`" },
    END,
};

static const struct qmp_member data_denied[] = {
    { "vcpu", QMP_T_INT, .min = 0, .max = G_MAXUINT32 },
    { "call", QMP_T_INT, .min = 0, .max = G_MAXUINT32, .doc = "the function ID" },
    { "call-name", QMP_T_STR, .doc = "its table entry's name, or `unknown`" },
    { "reason", QMP_T_STR, .values = call_verdict_names, .n_values = CALL_VERDICT_COUNT,
      .doc = "the verdict, as in `query-hypercall-stats`" },
    END,
};

const struct qmp_event_decl qmp_schema_events[] = {
    { "VM_STARTED", NULL, "`vm-start`, or a start by a service guest" },
    { "STOP", NULL, "`stop` paused it" },
    { "RESUME", NULL, "`cont` resumed it" },
    { "RESET", data_reset, "`system_reset` rebuilt it" },
    { "SHUTDOWN", data_shutdown, "its vCPUs ended by themselves or were stopped" },
    { "VM_DESTROYED", NULL, "`vm-destroy`, or a destroy by a service guest" },
    { "GUEST_CRASHED", data_crashed,
      "triple fault, KVM internal error, failed entry, unhandled exception; before its "
      "`SHUTDOWN`" },
    { "GUEST_CALL", data_guest_call, "a call a monitor claimed (to that monitor only)" },
    { "HYPERCALL_DENIED", data_denied,
      "the dispatcher refused a guest call (at most a few a second per VM, as its log)" },
};
const size_t qmp_schema_events_len = G_N_ELEMENTS(qmp_schema_events);

const struct qmp_command_decl *qmp_schema_command(const char *name)
{
    for (size_t i = 0; i < qmp_schema_commands_len; i++)
        if (!strcmp(qmp_schema_commands[i].name, name))
            return &qmp_schema_commands[i];
    return NULL;
}

const struct qmp_event_decl *qmp_schema_event(const char *name)
{
    for (size_t i = 0; i < qmp_schema_events_len; i++)
        if (!strcmp(qmp_schema_events[i].name, name))
            return &qmp_schema_events[i];
    return NULL;
}

const struct qmp_member *qmp_schema_arg(const struct qmp_command_decl *cmd, const char *name)
{
    if ((cmd->flags & QMP_CMD_VM) && !strcmp(name, qmp_vm_args[0].name))
        return &qmp_vm_args[0];
    for (const struct qmp_member *a = cmd->args; a && a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}
