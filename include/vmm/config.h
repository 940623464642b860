/*
 * A VM's configuration, read from a TOML file, a JSON object (vm-create)
 * or command-line options, all through one schema (vmm/schema.h,
 * config_schema.c). Everything a user can get wrong is checked here,
 * before KVM is touched, with one message naming the file, the position
 * and the key (or the JSON member, or the option).
 */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/policy.h"
#include "vmm/linux.h"

/* json-glib's types, without its header: code below the config layer
 * includes this one and need not build with json-glib. */
typedef struct _JsonNode JsonNode;
typedef struct _JsonObject JsonObject;

#define VMM_CONFIG_DEFAULT_MEMORY (128ULL << 20)
#define VMM_CONFIG_MIN_MEMORY     (2ULL << 20)
/* No KVM accepts more; the real limit (KVM_CAP_MAX_VCPUS) is checked when
 * KVM is opened. */
#define VMM_CONFIG_MAX_VCPUS      4096

struct vmm_config {
    char *path;           /* the file, as given */
    char *name;           /* [vm] name */
    uint64_t memory;      /* bytes */
    unsigned vcpus;
    char *firmware;       /* resolved path of the ELF image */
    char *console_file;   /* NULL: stdout */
    bool status_line;     /* [console] status-line: the guest's status from its console */
    bool pci_test_device; /* [vm] pci-test-device: kvm-unit-tests' pci-testdev on the PCI bus */
    bool status_whole;    /* --host-root: the guest's exit status 0-255, not capped (VM_STATUS_WHOLE) */
    bool pc_test_device;  /* [vm] pc-test-device: kvm-unit-tests' x86 test ports */
    char *cpu_features;   /* [vm] cpu-features: "+NAME,-NAME" (arch_cpu_features_parse), or NULL */
    int gic_version;      /* [vm] gic-version (aarch64): 2, 3, or 0: the host's choice */
    bool mte;             /* [vm] mte (aarch64): memory tagging for the guest */
    bool pit;             /* [vm] pit (x86_64): KVM's in-kernel 8254 PIT for kernel boots */
    bool hyperv;          /* [vm] hyperv (x86_64): KVM's Hyper-V enlightenments */
    bool hyperv_test_device; /* [vm] hyperv-test-device: kvm-unit-tests' hyperv-testdev */
    char *vcpus_at;       /* "file:line:col" of vm.vcpus, for later checks */
    uint8_t *image;       /* the firmware image, read and checked */
    size_t image_size;
    struct vm_policy policy; /* [policy] */
    char *firmware_at;    /* "file:line:col: boot.firmware" for later messages */
    char *kernel_at;      /* "file:line:col: boot.kernel", NULL from the command line */
    struct linux_image boot_linux; /* [boot] kernel, initrd, cmdline; kernel_path NULL: firmware */
    bool seccomp;         /* [security] seccomp: vmm run's filters (default true) */
    struct device_disk disks[VMM_MAX_DISKS]; /* [[disk]] and --disk, in order */
    unsigned nr_disks;
    int64_t vsock_cid;    /* [vsock] cid / --vsock: the guest's vsock CID, 0: no vsock */
    struct device_share shares[VMM_MAX_SHARES]; /* [[share]] and --share, in order */
    unsigned nr_shares;
};

/* Defaults for everything; used before a file is read. */
void config_init(struct vmm_config *cfg);
/* config_parse() then config_finish(). */
bool config_load(struct vmm_config *cfg, const char *path, GError **error);
/* The same from a document in memory (the control socket's inline
 * configs); @origin names it in messages, and relative paths in it are
 * relative to the current folder. */
bool config_load_text(struct vmm_config *cfg, const char *text, const char *origin,
                      GError **error);
/* The same document as a JSON object (vm-create's inline config): read
 * directly, with messages naming the member path from @base
 * ("config.vm.vcpus: ..."); relative paths are relative to the current
 * folder. Then config_finish(). */
bool config_load_json(struct vmm_config *cfg, JsonNode *object, const char *base,
                      GError **error);
/* Reads and checks the file's keys; images are not read yet, so that
 * command-line options can override what the file says. */
bool config_parse(struct vmm_config *cfg, const char *path, GError **error);
/* Reads the firmware or kernel and initrd and checks them against the
 * final memory size. */
bool config_finish(struct vmm_config *cfg, GError **error);
/* Whether a VM made from @cfg can have @policy (@who and @what name the
 * VM and the policy in the error): with [vm] hyperv, vmcall is KVM's
 * Hyper-V's, so no policy that allows a call fits. config_finish() checks
 * [policy] with it; the manager checks a set-policy with it. */
bool config_policy_fits(const struct vmm_config *cfg, const struct vm_policy *policy,
                        const char *who, const char *what, GError **error);
/* Command-line overrides, from the schema's option names (config_options:
 * --kernel, --initrd, --append, --cpus, --memory, --console, --status-line,
 * --disk, which adds a disk each time, --pci-test-device, --pc-test-device, --cpu-features), with
 * messages naming the option. Between config_parse() (or config_init()
 * without a file) and config_finish(); --kernel before --initrd and
 * --append, which need a kernel. Paths are relative to the current folder. */
bool config_set_option(struct vmm_config *cfg, const char *option, const char *value,
                       GError **error);
extern const char *const config_options[];   /* NULL-ended, in usage order */
/* Their usage lines ("  --cpus N          number of vCPUs\n"...). */
char *config_options_usage(void);
/* config_set_option() for --memory and --cpus (@option names it). */
bool config_set_memory(struct vmm_config *cfg, const char *option, const char *text,
                       GError **error);
bool config_set_vcpus(struct vmm_config *cfg, const char *option, const char *text,
                      GError **error);
/* Boots the kernel at @path (relative to the current directory) instead of
 * whatever the file said. */
void config_set_kernel(struct vmm_config *cfg, const char *path);
void config_clear(struct vmm_config *cfg);

/* One more share of folder @path (kept as given: relative to the current
 * folder) as @tag (NULL: from the folder's base name, see
 * config_share_tag()), read-only or not. False: too many shares, a bad or
 * taken tag. For [[share]], --share and vmm run's --host-root. */
bool config_add_share(struct vmm_config *cfg, const char *path, const char *tag,
                      bool readonly, GError **error);
/* The tag a share of @path gets when none is given: its base name with
 * what the tag rule refuses made '_', cut to 36 bytes ("root" for "/").
 * Newly allocated. */
char *config_share_tag(const char *path);
/* Why a share of @path as @tag cannot be added to @cfg, or NULL. */
char *config_share_problem(const struct vmm_config *cfg, const char *path, const char *tag);
#define VMM_SHARE_TAG_RULE "1 to 36 letters, digits and . _ - + @"
bool config_share_tag_valid(const char *tag);

/* Parses "64M", "1G", "512K" or a plain number of bytes. */
bool config_parse_size(const char *text, uint64_t *bytes);
/* Why @bytes of guest RAM (@shown as the user wrote it) cannot be, with
 * @host bytes of host RAM, or NULL. */
char *config_memory_problem(uint64_t bytes, const char *shown, uint64_t host);

/* set-policy's arguments (role, flags, services; other members are not
 * looked at) over @p, read with [policy]'s schema; messages name the
 * member ("flags[1]: unknown guest flag 'x' ..."). */
bool policy_from_json(struct vm_policy *p, JsonObject *args, GError **error);

/* The one rule for VM names, wherever one comes from (a config, its file
 * name, vm-create, a service guest's image): they reach log lines, events
 * and file names, so no control characters, spaces or slashes. */
#define VM_NAME_MAX 64
#define VM_NAME_RULE "1 to 64 letters, digits and . _ - + : @, not starting with . or -"
bool vm_name_valid(const char *name);
/* @name made safe to quote in a message (escaped, cut to a sane length). */
char *vm_name_quote(const char *name);

/* The folder bundled firmware is read from, the first of: @env_dir
 * ($VMM_FIRMWARE_DIR) when set and not empty; firmware/ in @exe_dir (the
 * vmm binary's folder) when it exists, as in a build tree; @installed_dir
 * (<libexecdir>/vmm/firmware, where `meson install` puts it). Newly allocated. */
char *config_firmware_dir(const char *env_dir, const char *exe_dir, const char *installed_dir);
/* Bundled firmware named @name: <name>-<arch>.elf in config_firmware_dir()
 * of this process. Newly allocated path. */
char *config_firmware_path(const char *name);

/* The host's physical memory, the ceiling for guest RAM. */
uint64_t config_host_memory(void);

#endif
