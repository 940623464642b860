/*
 * Prints docs/toml.md's key reference from the config schema
 * (vmm/schema.h): the VM config's keys and the manager config's, so the
 * docs cannot drift from what vmm reads. tools/doc-section.py checks the
 * section against this output (a test) and rewrites it (update-docs).
 */
#include <stdio.h>

#include "vmm/schema.h"

static void print_table(const char *title, const char *intro, const struct cfg_key *sections)
{
    printf("### %s\n\n%s\n\n", title, intro);
    printf("| key | type | default | meaning |\n|---|---|---|---|\n");
    for (const struct cfg_key *s = sections; s->name; s++) {
        const char *fmt = s->type == CFG_TABLES ? "[[%s]]" : "[%s]";

        for (const struct cfg_key *k = s->keys; k->name; k++) {
            printf("| `");
            printf(fmt, s->name);
            printf(" %s` | %s", k->name, k->type_doc);
            if (k->type == CFG_INT)
                printf(", %lld to %lld", (long long)k->min, (long long)k->max);
            printf(" | %s | %s", k->default_doc, k->doc);
            if (k->option)
                printf("; on the command line `%s %s`", k->option, k->option_arg);
            printf(" |\n");
        }
    }
    printf("\n");
}

int main(void)
{
    print_table("VM config",
                "`vmm run CONFIG.toml`, `vm-create`'s `config` (a file, or the same keys as a "
                "JSON object), the manager config's images and VMs. Sections: "
                "`[vm]` the machine, `[boot]` what it boots, `[console]` where its console "
                "goes, `[policy]` the calls it may make (`docs/abi.md`), `[security]` vmm's "
                "own confinement.",
                config_keys);
    print_table("Manager config",
                "`vmm serve --config FILE`; paths are relative to the file's folder.",
                manager_config_keys);
    return 0;
}
