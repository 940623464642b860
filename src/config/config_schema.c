/*
 * The VM config's keys, once: what the TOML file, an inline vm-create
 * object, set-policy's arguments and the run options are read against,
 * and what docs/toml.md's reference is printed from.
 */
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/schema.h"

static char *memory_problem(uint64_t bytes, const char *shown)
{
    return config_memory_problem(bytes, shown, config_host_memory());
}


static char *names_of_owner(service_owner owner)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < SVC_COUNT; i++) {
        if (service_table[i].owner == owner && (policy_supported_services() & SVC_BIT(i)))
            g_string_append_printf(s, "%s\"%s\"", s->len ? ", " : "", service_table[i].name);
    }
    if (!s->len)
        g_string_append(s, "none on this architecture");
    return g_string_free(s, FALSE);
}

/* One owner's list under services: it replaces that owner's default
 * (every service) with exactly the services it names. */
static bool read_owner_services(const struct cfg_node *list, service_owner owner,
                                uint64_t *services, GError **error)
{
    const char *path = cfg_node_path(list);

    if (cfg_node_type(list) != CFG_V_ARRAY) {
        cfg_error(error, list, "%s: expected an array of strings, found %s", path,
                  cfg_node_type_name(list));
        return false;
    }
    for (int s = 0; s < SVC_COUNT; s++)
        if (service_table[s].owner == owner)
            *services &= ~SVC_BIT(s);
    for (size_t i = 0; i < cfg_node_len(list); i++) {
        struct cfg_node e = cfg_node_child(list, i);
        const char *name = cfg_node_string(&e);
        const char *at = e.json ? cfg_node_path(&e) : path;
        service_id s;

        if (cfg_node_type(&e) != CFG_V_STRING) {
            cfg_error(error, &e, "%s: expected strings, found %s", at, cfg_node_type_name(&e));
            return false;
        }
        if (!name || !policy_service_from_name(name, owner, &s) ||
            !(policy_supported_services() & SVC_BIT(s))) {
            g_autofree char *known = names_of_owner(owner);
            g_autofree char *q = cfg_node_quote(&e, name ? name : "");

            cfg_error(error, &e, "%s: %s is not a %s service on %s (known: %s)", at, q,
                      service_owner_names[owner], arch_name, known);
            return false;
        }
        *services |= SVC_BIT(s);
    }
    return true;
}

static bool read_services(const struct cfg_node *t, void *field, GError **error)
{
    if (cfg_node_type(t) != CFG_V_TABLE) {
        cfg_error(error, t, "%s: expected %s, found %s", cfg_node_path(t),
                  t->json ? "an object" : "a table", cfg_node_type_name(t));
        return false;
    }
    for (size_t i = 0; i < cfg_node_len(t); i++) {
        const char *owner_name = cfg_node_key(t, i);
        struct cfg_node list = cfg_node_child(t, i);
        int owner = 0;

        while (owner < SVC_OWNER_COUNT && strcmp(service_owner_names[owner], owner_name))
            owner++;
        if (owner == SVC_OWNER_COUNT) {
            cfg_unknown(error, &list, t, "key", owner_name, service_owner_names,
                        SVC_OWNER_COUNT);
            return false;
        }
        if (!read_owner_services(&list, owner, field, error))
            return false;
    }
    return true;
}

/* [policy], and set-policy's arguments. */
static const struct cfg_key policy_keys[] = {
    { "role", CFG_ENUM, CFG_FIELD(struct vm_policy, role), .names = policy_role_names,
      .n_names = POLICY_NR_ROLES, .values = policy_role_values, .noun = "role",
      .type_doc = "string", .default_doc = "`\"restricted\"`",
      .doc = "`\"service\"`: the VM may make the service-only calls (managing the VMs it "
             "creates); `\"restricted\"`: only what its flags grant" },
    { "flags", CFG_NAME_SET, CFG_FIELD(struct vm_policy, flags), .names = guest_flag_names,
      .n_names = GUEST_FLAG_COUNT, .noun = "guest flag",
      .type_doc = "array of strings", .default_doc = "`[]`",
      .doc = "guest flags, each granting a group of calls: `\"info\"` (version, features, "
             "Call UID/revision, whoami), `\"console\"` (the console write call), `\"ucall\"` "
             "(the ucall commands: print, sync, done, abort). A restricted VM with no flags "
             "may make no call at all (on x86_64 a `vmcall` to one of vmm's IDs raises `#UD`)" },
    { "services", CFG_CUSTOM, CFG_FIELD(struct vm_policy, services), .read = read_services,
      .type_doc = "table: an array of strings per owner",
      .default_doc = "every service",
      .doc = "the services the VM may discover, per owner: `standard` (all: `[\"trng\"]` on "
             "aarch64, `[]` on x86_64: the SMCCC standard services; KVM answers the others "
             "`NOT_SUPPORTED`), `standard-hyp` (all: `[\"pv-time\"]` on aarch64) and "
             "`vendor-hyp` (all: `[\"kvm-features\", \"kvm-ptp\"]` (aarch64) and "
             "`[\"vmm-info\", \"vmm-console\", \"vmm-ucall\", \"vmm-vm\"]`). Listing an owner "
             "replaces its default with exactly that list (`[]` turns all of them off)" },
    { NULL },
};

static bool kernel_option_set(void *target, const char *option, GError **error)
{
    struct vmm_config *cfg = target;
    g_autofree char *path = g_steal_pointer(&cfg->boot_linux.kernel_path);

    config_set_kernel(cfg, path);
    return true;
}

static bool needs_kernel(void *target, const char *option, GError **error)
{
    struct vmm_config *cfg = target;

    if (cfg->boot_linux.kernel_path)
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s needs a kernel (--kernel)", option);
    return false;
}

static bool vcpus_option_set(void *target, const char *option, GError **error)
{
    struct vmm_config *cfg = target;

    g_free(cfg->vcpus_at);
    cfg->vcpus_at = g_strdup(option);
    return true;
}

static bool cpu_features_valid(const char *text)
{
    struct cpu_features f;
    g_autofree char *problem = NULL;

    return arch_cpu_features_parse(text, &f, &problem);
}

static bool cpu_features_option_set(void *target, const char *option, GError **error)
{
    struct vmm_config *cfg = target;
    struct cpu_features f;
    g_autofree char *problem = NULL;

    if (arch_cpu_features_parse(cfg->cpu_features, &f, &problem))
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", option, problem);
    return false;
}

static const struct cfg_key vm_keys[] = {
    { "name", CFG_STRING, CFG_FIELD(struct vmm_config, name), .valid = vm_name_valid,
      .noun = "VM name", .rule = VM_NAME_RULE,
      .type_doc = "string", .default_doc = "the file's base name",
      .doc = "the VM's name: " VM_NAME_RULE " (a file name outside that rule has the other "
             "characters replaced by `_`)" },
    { "memory", CFG_SIZE, CFG_FIELD(struct vmm_config, memory), .size_problem = memory_problem,
      .type_doc = "integer (MiB) or string (`\"512M\"`, `\"2G\"`, `\"1048576K\"`)",
      .default_doc = "`\"128M\"`",
      .doc = "guest RAM; a whole number of MiB, at least 2 MiB, at most the host's RAM. In a "
             "string, `K`, `M`, `G`, `T` are powers of 1024 (`\"2GiB\"`, `\"2GB\"` and `\"2g\"` "
             "mean the same); digits alone are bytes",
      .option = "--memory", .option_arg = "SIZE",
      .option_doc = "guest RAM, such as 512M or 2G" },
    { "vcpus", CFG_INT, CFG_FIELD(struct vmm_config, vcpus), .min = 1,
      .max = VMM_CONFIG_MAX_VCPUS, .noun = "vCPU count",
      .type_doc = "integer", .default_doc = "`1`",
      .doc = "number of vCPUs, at most KVM's limit on the host (`KVM_CAP_MAX_VCPUS`)",
      .option = "--cpus", .option_arg = "N", .option_doc = "number of vCPUs",
      .option_set = vcpus_option_set },
    { "pci-test-device", CFG_BOOL, CFG_FIELD(struct vmm_config, pci_test_device),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "`true` puts the PCI test device kvm-unit-tests drives (QEMU's `pci-testdev`, "
             "`1b36:0005`: a memory BAR and an I/O BAR whose writes it counts) on the PCI "
             "bus, for kernel boots (see docs/devices.md)",
      .option = "--pci-test-device", .option_arg = "on|off",
      .option_doc = "kvm-unit-tests' PCI test device (pci-testdev) on the PCI bus" },
    { "pc-test-device", CFG_BOOL, CFG_FIELD(struct vmm_config, pc_test_device),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "x86_64: `true` gives a kernel boot the test ports kvm-unit-tests' x86 tests "
             "use (QEMU's `pc-testdev`): a 32-bit register at ports `0xe0`-`0xe3`, interrupt "
             "lines 0-23 set by 1-byte writes to ports `0x2000`-`0x2017`, 64 KiB of MMIO "
             "that reads back at `0xff000000` (see docs/devices.md)",
      .option = "--pc-test-device", .option_arg = "on|off",
      .option_doc = "x86_64: kvm-unit-tests' test ports (pc-testdev)" },
    { "pit", CFG_BOOL, CFG_FIELD(struct vmm_config, pit),
      .type_doc = "boolean", .default_doc = "`true`",
      .doc = "x86_64: `false` leaves the 8254 timer (KVM's in-kernel PIT, ports `0x40`-`0x43` "
             "and `0x61`) out of a kernel boot, for guests that must not see its ticks; "
             "kvm-unit-tests' `-machine pit=off` becomes this key",
      .option = "--pit", .option_arg = "on|off",
      .option_doc = "x86_64: the 8254 PIT for a kernel boot (on by default)" },
    { "gic-version", CFG_INT, CFG_FIELD(struct vmm_config, gic_version), .min = 2, .max = 3,
      .noun = "GIC version",
      .type_doc = "integer", .default_doc = "the host's: 3 where KVM can emulate a GICv3, else 2",
      .doc = "aarch64: the guest's interrupt controller, `2` (GICv2: at most 8 vCPUs, no ITS, "
             "so PCI functions interrupt through INTx) or `3` (GICv3, with the ITS where KVM "
             "has one); one the host's KVM cannot emulate is an error when the VM is made. "
             "kvm-unit-tests' `-machine gic-version=N` becomes this key",
      .option = "--gic-version", .option_arg = "2|3",
      .option_doc = "aarch64: the guest's GIC, GICv2 or GICv3" },
    { "mte", CFG_BOOL, CFG_FIELD(struct vmm_config, mte),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "aarch64: `true` gives the guest memory tagging (MTE; KVM_CAP_ARM_MTE), where "
             "the host's CPU and kernel have it (an error otherwise). The guest finds it in "
             "its ID registers; kvm-unit-tests' `-machine mte=on` becomes this key",
      .option = "--mte", .option_arg = "on|off",
      .option_doc = "aarch64: memory tagging (MTE) for the guest" },
    { "hyperv", CFG_BOOL, CFG_FIELD(struct vmm_config, hyperv),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "x86_64: `true` gives the guest KVM's Hyper-V enlightenments, as QEMU's "
             "`-cpu host,hv_passthrough` does: every Hyper-V CPUID leaf KVM supports "
             "(KVM's own leaves move to `0x40000100`) and a SynIC per vCPU; a host whose "
             "KVM lacks them is an error when the VM is made. `vmcall` then belongs to KVM "
             "and Hyper-V, not vmm, so a VM whose policy allows any guest call is refused "
             "(docs/abi.md). kvm-unit-tests' `-cpu host,hv_passthrough` becomes this key",
      .option = "--hyperv", .option_arg = "on|off",
      .option_doc = "x86_64: Hyper-V enlightenments (hv_passthrough)" },
    { "hyperv-test-device", CFG_BOOL, CFG_FIELD(struct vmm_config, hyperv_test_device),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "x86_64, with `hyperv`: `true` gives a kernel boot the test device "
             "kvm-unit-tests' hyperv_synic and hyperv_connections tests use (QEMU's "
             "`hyperv-testdev`): a 32-bit port at `0x3000` whose writes create, destroy and "
             "raise routes to a vCPU's SynIC interrupt sources and make message and event "
             "connections, which answer the guest's HvPostMessage and HvSignalEvent (see "
             "docs/devices.md)",
      .option = "--hyperv-test-device", .option_arg = "on|off",
      .option_doc = "x86_64: kvm-unit-tests' Hyper-V test device (hyperv-testdev)" },
    { "cpu-features", CFG_STRING, CFG_FIELD(struct vmm_config, cpu_features),
      .valid = cpu_features_valid, .noun = "CPU feature list",
      .rule = "comma-separated +NAME and -NAME, each NAME once, from the names docs/toml.md "
              "lists for this architecture",
      .type_doc = "string", .default_doc = "`\"\"`: every feature KVM supports",
      .doc = "CPU features switched on (`+NAME`) or off (`-NAME`) relative to what KVM "
             "supports, comma-separated, by QEMU's names (`\"-x2apic,+tsc-deadline\"`); "
             "a feature turned on that KVM cannot give on the host is an error when the VM "
             "is made. x86_64 (CPUID bits): `pcid`, `x2apic`, `tsc-deadline` (KVM emulates "
             "it with the in-kernel LAPIC; off unless turned on), `fsgsbase`, `smep`, "
             "`invpcid`, `smap`, `umip`, `pku`, `la57`, `rdpid`, `rdtscp`. aarch64: none yet. "
             "kvm-unit-tests' `-cpu max,+f,-f` becomes this key (docs/kvm-unit-tests.md)",
      .option = "--cpu-features", .option_arg = "LIST",
      .option_doc = "CPU features on (+NAME) or off (-NAME), such as -x2apic,+pcid",
      .option_set = cpu_features_option_set },
    { NULL },
};

static const struct cfg_key boot_keys[] = {
    { "firmware", CFG_STRING, CFG_FIELD(struct vmm_config, firmware),
      .type_doc = "string", .default_doc = "one of firmware or kernel",
      .doc = "a bundled firmware name (`\"hello\"`: `hello-<arch>.elf` in the first of "
             "`$VMM_FIRMWARE_DIR` when set, `firmware/` beside the vmm binary when it exists "
             "(a build tree), and the installed `<libexecdir>/vmm/firmware`, "
             "`/usr/libexec/vmm/firmware` for the Debian package), or the path of an ELF64 image "
             "(relative to the config file's folder; a value with a `/` or ending in `.elf` "
             "is a path)" },
    { "kernel", CFG_STRING, CFG_FIELD(struct vmm_config, boot_linux.kernel_path),
      .type_doc = "string", .default_doc = "one of firmware or kernel",
      .doc = "a Linux kernel to boot instead (x86_64: `bzImage`; aarch64: `Image` or a raw "
             "binary), relative to the config file's folder",
      .option = "--kernel", .option_arg = "FILE",
      .option_doc = "boot this Linux kernel (bzImage on x86_64, Image on aarch64)",
      .option_set = kernel_option_set },
    { "initrd", CFG_STRING, CFG_FIELD(struct vmm_config, boot_linux.initrd_path),
      .type_doc = "string", .default_doc = "none",
      .doc = "an initramfs for the kernel (relative to the config file's folder)",
      .option = "--initrd", .option_arg = "FILE", .option_doc = "with this initramfs",
      .option_set = needs_kernel },
    { "cmdline", CFG_STRING, CFG_FIELD(struct vmm_config, boot_linux.cmdline),
      .type_doc = "string",
      .default_doc = "`\"console=ttyS0 panic=-1\"` (x86_64), `\"panic=-1\"` (aarch64)",
      .doc = "the kernel command line",
      .option = "--append", .option_arg = "TEXT",
      .option_doc = "and this kernel command line", .option_set = needs_kernel },
    { NULL },
};

static const struct cfg_key console_keys[] = {
    { "file", CFG_STRING, CFG_FIELD(struct vmm_config, console_file),
      .type_doc = "string", .default_doc = "standard output",
      .doc = "write the guest console to this file instead (relative to the config file's "
             "folder)",
      .option = "--console", .option_arg = "FILE",
      .option_doc = "guest console to FILE instead of stdout" },
    { "status-line", CFG_BOOL, CFG_FIELD(struct vmm_config, status_line),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "`true` makes a test guest's console report its status, as kvm-unit-tests "
             "does: when the guest powers off or resets, vmm ends with `n >> 1` of the last "
             "console line that is exactly `EXIT: STATUS=n`, or with 1 if it printed none "
             "(the exit device, a panic, a crash and `--timeout` keep their statuses; see "
             "docs/kvm-unit-tests.md)",
      .option = "--status-line", .option_arg = "on|off",
      .option_doc = "the guest's EXIT: STATUS=n line gives the status (n >> 1)" },
    { NULL },
};

static const struct cfg_key security_keys[] = {
    { "seccomp", CFG_BOOL, CFG_FIELD(struct vmm_config, seccomp),
      .type_doc = "boolean", .default_doc = "`true`",
      .doc = "`false` runs `vmm run` without its system call filters (debugging only, as "
             "`--no-seccomp`; see Security in README.md). `vmm serve` filters the whole "
             "process and takes only `--no-seccomp`" },
    { NULL },
};

static const struct cfg_key vsock_keys[] = {
    { "cid", CFG_INT, CFG_FIELD(struct vmm_config, vsock_cid), .min = VMM_VSOCK_CID_MIN,
      .max = VMM_VSOCK_CID_MAX, .noun = "vsock CID",
      .type_doc = "integer", .default_doc = "none (no vsock device)",
      .doc = "the guest's vsock address: a virtio-vsock device (Linux boots) served by the "
             "host kernel's vhost-vsock (module `vhost_vsock`), 3 to 4294967294 (0, 1, 2 and "
             "-1 are reserved). Unique on the host: a VM asking for a CID another VM (or "
             "the host) holds is not built. The host reaches the guest at this CID, the "
             "guest the host at CID 2",
      .option = "--vsock", .option_arg = "CID",
      .option_doc = "a vsock device (vhost-vsock) with guest CID CID" },
    { NULL },
};

/* virtio-blk's GET_ID: what a Linux guest shows as the disk's serial. */
static bool serial_valid(const char *serial)
{
    size_t n = strlen(serial);

    if (n == 0 || n > VMM_DISK_SERIAL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (serial[i] < 0x21 || serial[i] > 0x7e)
            return false;
    return true;
}

static const struct cfg_key disk_keys[] = {
    { "path", CFG_STRING, CFG_FIELD(struct device_disk, path), .required = true,
      .type_doc = "string", .default_doc = "required",
      .doc = "a raw image: a regular file or a block device (relative to the config file's "
             "folder); its size in 512-byte sectors is the disk's, a last partial sector is "
             "not part of it. Opened when the VM is built and locked (`flock`: shared when "
             "read-only, exclusive otherwise), so two VMs never write one image. On the "
             "command line `--disk FILE[,ro]`, repeatable" },
    { "readonly", CFG_BOOL, CFG_FIELD(struct device_disk, readonly),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "`true` opens the image read-only and tells the guest so (`VIRTIO_BLK_F_RO`); "
             "writes get an I/O error" },
    { "serial", CFG_STRING, CFG_FIELD(struct device_disk, serial), .valid = serial_valid,
      .noun = "disk serial", .rule = "1 to 20 printable ASCII characters, no spaces",
      .type_doc = "string", .default_doc = "none",
      .doc = "the disk's ID (virtio-blk `GET_ID`; `/sys/block/vdX/serial` in a Linux guest): "
             "1 to 20 printable ASCII characters, no spaces" },
    { NULL },
};

/* One [[disk]] table (or JSON object) into the config's list. */
static bool add_disk(const struct cfg_node *n, void *elem, void *target, GError **error)
{
    struct vmm_config *cfg = target;
    struct device_disk *d = elem;

    if (cfg->nr_disks == VMM_MAX_DISKS) {
        cfg_error(error, n, "%s: at most %u disks", cfg_node_path(n), VMM_MAX_DISKS);
        return false;
    }
    cfg->disks[cfg->nr_disks++] = *d;
    memset(d, 0, sizeof(*d));
    return true;
}

static void disk_clear(void *elem)
{
    struct device_disk *d = elem;

    g_free(d->path);
    g_free(d->serial);
}

/* --disk FILE[,ro]: a path relative to the current folder, read-write
 * unless ",ro" ends it. */
static bool disk_option_add(void *target, const char *option, const char *text,
                            GError **error)
{
    struct vmm_config *cfg = target;
    bool ro = g_str_has_suffix(text, ",ro");
    g_autofree char *path = g_strndup(text, strlen(text) - (ro ? 3 : 0));

    if (!*path) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: \"%s\" names no file (FILE[,ro])",
                    option, text);
        return false;
    }
    if (cfg->nr_disks == VMM_MAX_DISKS) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s %s: at most %u disks", option,
                    text, VMM_MAX_DISKS);
        return false;
    }
    cfg->disks[cfg->nr_disks++] = (struct device_disk){ .path = g_steal_pointer(&path),
                                                        .readonly = ro };
    return true;
}

static const struct cfg_key share_keys[] = {
    { "path", CFG_STRING, CFG_FIELD(struct device_share, path), .required = true,
      .type_doc = "string", .default_doc = "required",
      .doc = "the host folder the guest mounts (relative to the config file's folder), "
             "served by a virtiofsd that vmm starts for it when the VM is built and stops "
             "with the VM ($VMM_VIRTIOFSD names another daemon than "
             "`/usr/lib/qemu/virtiofsd`). The guest mounts it with "
             "`mount -t virtiofs TAG DIR`. On the command line `--share DIR[:TAG][,ro]`, "
             "repeatable" },
    { "tag", CFG_STRING, CFG_FIELD(struct device_share, tag),
      .valid = config_share_tag_valid, .noun = "share tag", .rule = VMM_SHARE_TAG_RULE,
      .type_doc = "string", .default_doc = "the folder's base name",
      .doc = "the name the guest mounts it by: " VMM_SHARE_TAG_RULE ", unique in the VM. "
             "Without it, the folder's base name with other characters made `_` (`root` for "
             "`/`)" },
    { "readonly", CFG_BOOL, CFG_FIELD(struct device_share, readonly),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "`true` makes the share read-only on the host's side: its daemon sees the "
             "folder through a read-only bind mount in a mount namespace of its own, so a "
             "guest that remounts it read-write still cannot write (needs root)" },
    { NULL },
};

/* One [[share]] table (or JSON object) into the config's list: the tag's
 * default comes from the folder as the file names it. */
static bool add_share(const struct cfg_node *n, void *elem, void *target, GError **error)
{
    struct vmm_config *cfg = target;
    struct device_share *s = elem;
    g_autofree char *tag = s->tag ? g_strdup(s->tag) : config_share_tag(s->path);
    g_autofree char *problem = config_share_problem(cfg, s->path, tag);

    if (problem) {
        cfg_error(error, n, "%s: %s", cfg_node_path(n), problem);
        return false;
    }
    return config_add_share(cfg, s->path, tag, s->readonly, error);
}

static void share_clear(void *elem)
{
    struct device_share *s = elem;

    g_free(s->path);
    g_free(s->tag);
}

/* --share DIR[:TAG][,ro]: a folder relative to the current one. A colon
 * starts the tag only when what follows it has no slash, so DIR may hold
 * colons when a tag is given or its last part has none. */
static bool share_option_add(void *target, const char *option, const char *text,
                             GError **error)
{
    bool ro = g_str_has_suffix(text, ",ro");
    g_autofree char *dir = g_strndup(text, strlen(text) - (ro ? 3 : 0));
    char *colon = strrchr(dir, ':');
    g_autofree char *tag = NULL, *why = NULL;

    if (colon && !strchr(colon, '/')) {
        *colon = '\0';
        tag = g_strdup(colon + 1);
    }
    if (!*dir) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: \"%s\" names no folder (DIR[:TAG][,ro])", option, text);
        return false;
    }
    if (!tag)
        tag = config_share_tag(dir);
    why = config_share_problem(target, dir, tag);
    if (why) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s %s: %s", option, text, why);
        return false;
    }
    return config_add_share(target, dir, tag, ro, error);
}

/* Sections of the VM config; their targets are the struct vmm_config. */
const struct cfg_key config_keys[] = {
    { "vm", CFG_TABLE, 0, 0, .keys = vm_keys, .doc = "the machine" },
    { "boot", CFG_TABLE, 0, 0, .keys = boot_keys, .doc = "what it boots" },
    { "console", CFG_TABLE, 0, 0, .keys = console_keys, .doc = "where its console goes" },
    { "policy", CFG_TABLE, CFG_FIELD(struct vmm_config, policy), .keys = policy_keys,
      .doc = "the calls it may make (docs/abi.md)" },
    { "security", CFG_TABLE, 0, 0, .keys = security_keys, .doc = "vmm's own confinement" },
    { "vsock", CFG_TABLE, 0, 0, .keys = vsock_keys, .doc = "its vsock device" },
    { "disk", CFG_TABLES, 0, 0, .keys = disk_keys, .elem_size = sizeof(struct device_disk),
      .each = add_disk, .elem_clear = disk_clear,
      .doc = "its disks (virtio-blk, Linux boots), at most 8",
      .option = "--disk", .option_arg = "FILE[,ro]",
      .option_doc = "a disk (virtio-blk) backed by FILE, read-only with ,ro (repeatable)",
      .option_add = disk_option_add },
    { "share", CFG_TABLES, 0, 0, .keys = share_keys, .elem_size = sizeof(struct device_share),
      .each = add_share, .elem_clear = share_clear,
      .doc = "host folders it mounts (virtio-fs, Linux boots), at most 4",
      .option = "--share", .option_arg = "DIR[:TAG][,ro]",
      .option_doc = "share host folder DIR as TAG (virtio-fs), read-only with ,ro (repeatable)",
      .option_add = share_option_add },
    { NULL },
};

/* A document holding [policy] alone (policy_from_toml). */
static const struct cfg_key policy_doc_keys[] = {
    { "policy", CFG_TABLE, 0, 0, .keys = policy_keys },
    { NULL },
};

static bool policy_done(const struct cfg_node *root, void *target, GError **error)
{
    policy_update(target);
    return true;
}

bool policy_from_toml(struct vm_policy *p, const toml_value *root, GError **error)
{
    return cfg_read_toml(policy_doc_keys, root, p, policy_done, error);
}

bool policy_from_json(struct vm_policy *p, JsonObject *args, GError **error)
{
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), args);

    if (!cfg_read_json_members(policy_keys, n, "", p, error))
        return false;
    policy_update(p);
    return true;
}

bool config_set_option(struct vmm_config *cfg, const char *option, const char *value,
                       GError **error)
{
    return cfg_set_option(config_keys, cfg, option, value, error);
}

const char *const config_options[] = { "--kernel", "--initrd", "--append", "--cpus",
                                        "--memory", "--console", "--status-line", "--disk", "--share",
                                        "--pci-test-device", "--pc-test-device", "--cpu-features",
                                        "--pit", "--gic-version", "--mte", "--hyperv",
                                        "--hyperv-test-device", "--vsock", NULL };

static void usage_line(GString *s, const struct cfg_key *k)
{
    g_autofree char *left = g_strdup_printf("%s %s", k->option, k->option_arg);

    g_string_append_printf(s, "  %-17s %s\n", left, k->option_doc);
}

char *config_options_usage(void)
{
    GString *s = g_string_new(NULL);

    for (const char *const *o = config_options; *o; o++) {
        for (const struct cfg_key *sec = config_keys; sec->name; sec++) {
            if (sec->option && !strcmp(sec->option, *o))
                usage_line(s, sec);
            for (const struct cfg_key *k = sec->keys; k->name; k++)
                if (k->option && !strcmp(k->option, *o))
                    usage_line(s, k);
        }
    }
    return g_string_free(s, FALSE);
}
