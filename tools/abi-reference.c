/*
 * abi-reference: prints the call table of docs/abi.md (markdown) from
 * VMM_CALL_LIST, so that the page cannot drift from the calls vmm serves.
 * Registered in generated_docs (tools/meson.build): the docs-calls test
 * fails while the page is stale, `ninja -C build update-docs` rewrites it.
 *
 * Built for the build machine (it runs during the build and the tests,
 * also in a cross build), so it uses the guest headers alone: the names
 * of flags and services are the list's tokens in lower case, with `-` for
 * `_`, which is how [policy] spells them (tests/unit/test_calls.c checks
 * that against vmm's own name tables).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "vmm-guest/calls.h"

/* "VMM_INFO" -> "vmm-info": a token of the list as [policy] writes it. */
static const char *policy_name(const char *token)
{
    static char buf[64];
    size_t i;

    for (i = 0; token[i] && i < sizeof(buf) - 1; i++)
        buf[i] = token[i] == '_' ? '-' : (char)tolower((unsigned char)token[i]);
    buf[i] = '\0';
    return buf;
}

static void print_permission(const char *perm)
{
    if (!strcmp(perm, "SERVICE_ONLY"))
        fputs("service VMs", stdout);
    else
        printf("`%s`", policy_name(perm));
}

int main(void)
{
    puts("| ID | constant | name | permission | service | arguments | results |");
    puts("|---|---|---|---|---|---|---|");
#define ROW(c, id, name, handler, perm, service, results, nargs, probe, args, returns) \
    printf("| `%#x` | `VMM_CALL_" #c "` | `%s` | ", (unsigned)(id), name); \
    print_permission(#perm); \
    printf(" | %s | %s | %s |\n", policy_name(#service), args, returns);
    VMM_CALL_LIST(ROW)
#undef ROW
    printf("\nvmm's UUID (`vendor-hyp-uid`) is `%08x-%04x-%04x-%04x-%04x%08x`, the words "
           "`%#x %#x %#x %#x`; the ABI version is %u.%u (`vendor-hyp-revision`), so "
           "`version` answers `%#x`.\n",
           VMM_UUID_W0, VMM_UUID_W1 >> 16, VMM_UUID_W1 & 0xffff, VMM_UUID_W2 >> 16,
           VMM_UUID_W2 & 0xffff, VMM_UUID_W3, VMM_UUID_W0, VMM_UUID_W1, VMM_UUID_W2,
           VMM_UUID_W3, VMM_ABI_MAJOR, VMM_ABI_MINOR,
           (unsigned)((VMM_ABI_MAJOR << 16) | VMM_ABI_MINOR));
    return 0;
}
