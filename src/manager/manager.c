/*
 * The VM manager: the VM set and its state machine
 *
 *     prelaunch --start--> running <--stop/cont--> paused
 *         \                   |                      |
 *          `--- (reset rebuilds, keeping the state) --'--> shutdown
 *
 * Everything here runs on the manager's main context: the control socket's
 * handlers call it directly, vCPU threads reach it through manager_host.c.
 * How VMs are built and driven is the backend's business (KVM, or fakes).
 */
#include <string.h>

#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/manager.h"

VMM_DEFINE_QUARK(vmm-manager-error-quark, manager_error)

const char *mvm_state_name(mvm_state s)
{
    static const char *const names[] = {
        [MVM_PRELAUNCH] = "prelaunch",
        [MVM_RUNNING] = "running",
        [MVM_PAUSED] = "paused",
        [MVM_SHUTDOWN] = "shutdown",
    };
    return names[s];
}

void manager_init(struct manager *m, const struct manager_backend *backend, GMainContext *ctx)
{
    memset(m, 0, sizeof(*m));
    m->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref(g_main_context_default());
    m->backend = backend;
    m->vms = g_ptr_array_new();
    m->next_id = 1;
    m->images = g_array_new(FALSE, TRUE, sizeof(struct manager_image));
    m->pause_timeout_ms = 2000;
    m->host_call_timeout_ms = 5000;
    vmm_wait_init(&m->monitor);
    m->pending = g_hash_table_new(g_int64_hash, g_int64_equal);
    m->next_token = 1;
    m->quota = (struct manager_quota){ .vms = 8, .memory = 1ULL << 30, .vcpus = 16 };
}

static void mvm_teardown(struct manager *m, struct mvm *mv)
{
    /* Bump first: the stop this causes is not a guest's shutdown. */
    mv->generation++;
    if (mv->vm) {
        m->backend->stop(mv, VM_STOP_HOST, VMM_EXIT_SIGNAL_BASE + 15, "stopped by the manager");
        m->backend->teardown(mv);
        mv->vm = NULL;
    }
    g_clear_pointer(&mv->build_ref, g_free);
}

static bool mvm_build(struct manager *m, struct mvm *mv, GError **error)
{
    mv->build_ref = g_new(struct mvm_ref, 1);
    *mv->build_ref = (struct mvm_ref){ .m = m, .mv = mv, .id = mv->id,
                                       .generation = mv->generation };
    if (m->backend->build(m, mv, error))
        return true;
    g_clear_pointer(&mv->build_ref, g_free);
    return false;
}

static void mvm_free(struct mvm *mv)
{
    console_close(mv->console);
    if (mv->claims)
        g_array_free(mv->claims, TRUE);
    if (mv->cfg_borrowed)
        g_free(mv->cfg.name); /* the rest is the image's */
    else
        config_clear(&mv->cfg);
    g_free(mv->stop_message);
    g_free(mv->name);
    g_free(mv);
}

void manager_clear(struct manager *m)
{
    if (!m->vms)
        return;
    for (guint i = 0; i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        mvm_teardown(m, mv);
        mvm_free(mv);
    }
    g_ptr_array_free(m->vms, TRUE);
    m->vms = NULL;
    /* After the VMs: those made from an image borrow its config. */
    for (guint i = 0; i < m->images->len; i++) {
        struct manager_image *img = &g_array_index(m->images, struct manager_image, i);

        g_free(img->name);
        g_free(img->config);
        config_clear(&img->cfg);
    }
    g_array_free(m->images, TRUE);
    g_free(m->default_vm);
    g_free(m->kvm_error);
    g_hash_table_destroy(m->pending);
    vmm_wait_clear(&m->monitor);
    g_main_context_unref(m->ctx);
}

void manager_emit(struct manager *m, const struct manager_event *ev)
{
    if (m->on_event)
        m->on_event(ev, m->on_event_data);
}

static void emit_simple(struct manager *m, struct mvm *mv, manager_event_kind kind)
{
    struct manager_event ev = { .kind = kind, .vm = mv->name, .id = mv->id };

    manager_emit(m, &ev);
}

struct mvm *manager_find(struct manager *m, const char *name, GError **error)
{
    if (!name)
        name = m->default_vm;
    for (guint i = 0; name && i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        if (!strcmp(mv->name, name))
            return mv;
    }
    if (name)
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_NO_VM, "No VM named '%s'", name);
    else
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_NO_VM, "No VM given (argument 'vm')");
    return NULL;
}

struct mvm *manager_find_id(struct manager *m, uint64_t id)
{
    for (guint i = 0; i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        if (mv->id == id)
            return mv;
    }
    return NULL;
}

/* A new VM's record, not yet built or listed: NULL if @name is taken or
 * not a name. */
static struct mvm *mvm_new(struct manager *m, const char *name, uint64_t owner,
                           GError **error)
{
    struct mvm *mv;

    if (!vm_name_valid(name)) {
        g_autofree char *q = vm_name_quote(name);

        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_FAILED,
                    "'%s' is not a VM name (" VM_NAME_RULE ")", q);
        return NULL;
    }
    for (guint i = 0; i < m->vms->len; i++) {
        if (!strcmp(((struct mvm *)m->vms->pdata[i])->name, name)) {
            g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_EXISTS,
                        "A VM named '%s' exists already", name);
            return NULL;
        }
    }
    mv = g_new0(struct mvm, 1);
    mv->manager = m;
    mv->id = m->next_id;
    mv->name = g_strdup(name);
    mv->owner = owner;
    mv->state = MVM_PRELAUNCH;
    return mv;
}

/* Builds @mv from its config and lists it. */
static struct mvm *mvm_add(struct manager *m, struct mvm *mv, GError **error)
{
    g_free(mv->cfg.name);
    mv->cfg.name = g_strdup(mv->name);
    mv->policy = mv->cfg.policy;
    mv->policy.manageable = mv->owner != 0;
    if (!mvm_build(m, mv, error)) {
        mvm_free(mv);
        return NULL;
    }
    m->next_id++;
    g_ptr_array_add(m->vms, mv);
    return mv;
}

struct mvm *manager_create(struct manager *m, const char *name, struct vmm_config *cfg,
                           uint64_t owner, GError **error)
{
    struct mvm *mv = mvm_new(m, name ? name : cfg->name, owner, error);

    if (!mv)
        return NULL;
    mv->cfg = *cfg;
    config_init(cfg);
    return mvm_add(m, mv, error);
}

struct mvm *manager_create_from_image(struct manager *m, const char *name, guint index,
                                      uint64_t owner, GError **error)
{
    const struct manager_image *img;
    struct mvm *mv;

    if (index >= m->images->len) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_NO_VM, "No image %u", index);
        return NULL;
    }
    img = &g_array_index(m->images, struct manager_image, index);
    mv = mvm_new(m, name, owner, error);
    if (!mv)
        return NULL;
    /* Images live until manager_clear(), after every VM. */
    mv->cfg = img->cfg;
    mv->cfg.name = NULL;
    mv->cfg_borrowed = true;
    return mvm_add(m, mv, error);
}

static bool want_state(struct mvm *mv, mvm_state want, const char *what, GError **error)
{
    if (mv->state == want)
        return true;
    g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_STATE,
                "VM '%s' is %s: %s needs it %s", mv->name, mvm_state_name(mv->state), what,
                mvm_state_name(want));
    return false;
}

static bool start_vm(struct manager *m, struct mvm *mv, GError **error)
{
    if (!want_state(mv, MVM_PRELAUNCH, "starting", error))
        return false;
    if (!m->backend->start(mv, error))
        return false;
    mv->state = MVM_RUNNING;
    emit_simple(m, mv, MEV_VM_STARTED);
    return true;
}

bool manager_start(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);

    return mv && start_vm(m, mv, error);
}

bool manager_pause(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);

    if (!mv)
        return false;
    if (mv->state == MVM_PAUSED) /* as QEMU: stopping a stopped VM is fine */
        return true;
    if (!want_state(mv, MVM_RUNNING, "stop", error) || !m->backend->pause(mv, error))
        return false;
    mv->state = MVM_PAUSED;
    emit_simple(m, mv, MEV_STOP);
    return true;
}

bool manager_resume(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);

    if (!mv)
        return false;
    if (mv->state == MVM_RUNNING)
        return true;
    if (!want_state(mv, MVM_PAUSED, "cont", error))
        return false;
    m->backend->resume(mv);
    mv->state = MVM_RUNNING;
    emit_simple(m, mv, MEV_RESUME);
    return true;
}

/* A real reset: the VM is built again from its config, with the policy it
 * has now; it keeps its name, number and state (a shut-down VM runs
 * again). */
bool manager_reset(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);
    mvm_state was;
    struct manager_event ev = { .kind = MEV_RESET, .reason = "host-qmp-system-reset" };

    if (!mv)
        return false;
    was = mv->state;
    mvm_teardown(m, mv);
    mv->stopped = false;
    mv->stop_reason = NULL;
    mv->exit_status = 0;
    g_clear_pointer(&mv->stop_message, g_free);
    mv->state = MVM_PRELAUNCH;
    if (!mvm_build(m, mv, error))
        goto broken;
    if (was != MVM_PRELAUNCH) {
        /* Paused before the first KVM_RUN: the guest never runs a cycle. */
        if (was == MVM_PAUSED && !m->backend->pause(mv, error))
            goto broken;
        if (!m->backend->start(mv, error))
            goto broken;
        mv->state = was == MVM_PAUSED ? MVM_PAUSED : MVM_RUNNING;
    }
    ev.vm = mv->name;
    ev.id = mv->id;
    manager_emit(m, &ev);
    return true;

broken:
    /* Nothing left to run: it stays, shut down, until destroyed. */
    mvm_teardown(m, mv);
    mv->state = MVM_SHUTDOWN;
    mv->stopped = true;
    mv->stop_reason = "host-error";
    mv->exit_status = VMM_EXIT_KVM_ERROR;
    return false;
}

bool manager_powerdown(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);

    if (!mv)
        return false;
    if (mv->state != MVM_RUNNING && mv->state != MVM_PAUSED) {
        want_state(mv, MVM_RUNNING, "system_powerdown", error);
        return false;
    }
    /* x86_64 guests would need ACPI (a power button GPE), aarch64 ones a
     * GPIO power key in the device tree: vmm's machines have neither, so
     * no guest has a way to be asked. Say so rather than pretend. */
    g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_UNSUPPORTED,
                "VM '%s' cannot be asked to power down: vmm's machines have no power "
                "button (no ACPI on x86_64, no GPIO power key on aarch64); "
                "use vm-destroy to end it", mv->name);
    return false;
}

/* Ends a running VM without destroying it: it becomes shut down when its
 * vCPUs have returned. */
bool manager_end(struct manager *m, struct mvm *mv, vm_stop_reason reason, int status,
                 const char *message, GError **error)
{
    if (mv->state != MVM_RUNNING && mv->state != MVM_PAUSED) {
        want_state(mv, MVM_RUNNING, "stopping", error);
        return false;
    }
    m->backend->stop(mv, reason, status, message);
    return true;
}

static void destroy_vm(struct manager *m, struct mvm *mv)
{
    struct manager_event ev = { .kind = MEV_VM_DESTROYED, .id = mv->id };
    g_autofree char *name = g_strdup(mv->name);

    mvm_teardown(m, mv);
    g_ptr_array_remove(m->vms, mv);
    if (m->default_vm && !strcmp(m->default_vm, mv->name))
        g_clear_pointer(&m->default_vm, g_free);
    mvm_free(mv);
    ev.vm = name;
    manager_emit(m, &ev);
}

bool manager_destroy(struct manager *m, const char *name, GError **error)
{
    struct mvm *mv = manager_find(m, name, error);

    if (!mv)
        return false;
    destroy_vm(m, mv);
    return true;
}

bool manager_destroy_vm(struct manager *m, struct mvm *mv)
{
    destroy_vm(m, mv);
    return true;
}

void manager_drop_boot_images(struct mvm *mv)
{
    if (mv->cfg_borrowed)
        return; /* the image's, for the next VM made from it */
    g_clear_pointer(&mv->cfg.boot_linux.kernel, g_free);
    g_clear_pointer(&mv->cfg.boot_linux.initrd, g_free);
}

bool manager_set_policy(struct manager *m, const char *name, const struct vm_policy *p,
                        GError **error)
{
    struct mvm *mv = manager_find(m, name, error);
    struct vm_policy next;

    if (!mv)
        return false;
    if (mv->state != MVM_PRELAUNCH || mv->policy.frozen) {
        g_set_error(error, MANAGER_ERROR, MANAGER_ERROR_STATE,
                    "VM '%s' is %s: its policy is fixed once it has run", mv->name,
                    mvm_state_name(mv->state));
        return false;
    }
    /* Who may manage a VM is the manager's fact, not the caller's. */
    next = *p;
    next.manageable = mv->policy.manageable;
    next.frozen = false;
    policy_update(&next);
    if (!config_policy_fits(&mv->cfg, &next, mv->name, "this policy", error))
        return false;
    mv->policy = next;
    return true;
}

const struct call_stats *manager_call_stats(struct mvm *mv)
{
    return mv->vm ? mv->manager->backend->call_stats(mv) : NULL;
}

/* The names SHUTDOWN's reason takes (QEMU's ShutdownCause where one fits). */
static const char *stop_reason_name(vm_stop_reason r)
{
    switch (r) {
    case VM_STOP_GUEST_EXIT: return "guest-exit";
    case VM_STOP_POWEROFF: return "guest-shutdown";
    case VM_STOP_RESET: return "guest-reset";
    case VM_STOP_CRASH: return "guest-crash";
    case VM_STOP_PANIC: return "guest-panic";
    case VM_STOP_SIGNAL: return "host-signal";
    case VM_STOP_TIMEOUT: return "host-timeout";
    case VM_STOP_HOST: return "host-stop";
    case VM_STOP_ERROR:
    case VM_STOP_NONE:
    default: return "host-error";
    }
}

/* On the main context: a VM's last vCPU thread has returned. */
static gboolean vm_stopped_main(gpointer data)
{
    struct mvm_ref *ref = data;
    struct manager *m = ref->m;
    struct mvm *mv = manager_find_id(m, ref->id);
    struct manager_event ev = { .kind = MEV_SHUTDOWN };
    const struct vm_stop *stop;
    vm_stop_reason reason;

    if (!mv || mv->generation != ref->generation || !mv->vm)
        return G_SOURCE_REMOVE; /* torn down or rebuilt since */
    stop = m->backend->stop_report(mv);
    reason = stop->reason;
    mv->state = MVM_SHUTDOWN;
    mv->stopped = true;
    mv->stop_reason = stop_reason_name(reason);
    mv->exit_status = stop->status;
    g_free(mv->stop_message);
    mv->stop_message = g_strdup(stop->message);
    ev.vm = mv->name;
    ev.id = mv->id;
    if (reason == VM_STOP_CRASH) {
        struct manager_event crash = { .kind = MEV_GUEST_CRASHED, .vm = mv->name,
                                       .id = mv->id, .message = mv->stop_message };

        manager_emit(m, &crash);
    }
    ev.guest = reason == VM_STOP_GUEST_EXIT || reason == VM_STOP_POWEROFF ||
               reason == VM_STOP_RESET || reason == VM_STOP_CRASH;
    ev.reason = mv->stop_reason;
    ev.status = mv->exit_status;
    manager_emit(m, &ev);
    if (m->on_vm_stopped)
        m->on_vm_stopped(m, mv, m->on_vm_stopped_data);
    return G_SOURCE_REMOVE;
}

void manager_vm_stopped(struct mvm_ref *vm)
{
    struct mvm_ref *ref;
    GSource *src;

    if (vm->m->upstream) {
        vm->m->upstream->vm_stopped(vm);
        return;
    }
    ref = g_memdup2(vm, sizeof(struct mvm_ref));
    src = g_idle_source_new();
    g_source_set_callback(src, vm_stopped_main, ref, g_free);
    g_source_attach(src, ref->m->ctx);
    g_source_unref(src);
}
