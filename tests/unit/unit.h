/* Shared by the Check unit tests. */
#ifndef VMM_TEST_UNIT_H
#define VMM_TEST_UNIT_H

#include <check.h>

/* Runs every test of @s; the process's exit status. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
