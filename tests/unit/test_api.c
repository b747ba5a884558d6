/*
 * test_api.c: the public API skeleton (include/sluice.h): versions, open and
 * close, argument checks returning SLUICE_MISUSE, sticky error messages.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sluice.h"

Test(api, version)
{
    cr_assert_str_eq(sluice_libversion(), SLUICE_VERSION);
    cr_assert_eq(sluice_libversion_number(), SLUICE_VERSION_NUMBER);
}

Test(api, open_close)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_not_null(db);
    cr_assert_str_eq(sluice_errmsg(db), "not an error");
    cr_assert_eq(sluice_errcode(db), SLUICE_OK);
    sluice_close(db);
    sluice_close(NULL);
}

Test(api, misuse)
{
    cr_assert_eq(sluice_open(NULL), SLUICE_MISUSE);
    cr_assert_eq(sluice_exec(NULL, "SELECT 1", NULL, NULL), SLUICE_MISUSE);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, NULL, NULL, NULL), SLUICE_MISUSE);
    cr_assert_eq(sluice_row_column_count(NULL), 0);
    cr_assert(sluice_row_is_null(NULL, 0));
    sluice_close(db);
}

Test(api, empty_script_is_ok)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, " ;\n; ", NULL, NULL), SLUICE_OK);
    sluice_close(db);
}

Test(api, literal_secret_is_accepted_with_a_warning)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db,
                             "CREATE MODEL m INPUT (p STRING) OUTPUT (a "
                             "STRING) WITH ('provider' = 'openai', "
                             "'api-key' = 'sk-literal')",
                             NULL, NULL),
                 SLUICE_OK);
    cr_assert(strstr(sluice_warnings(db), "'api-key' is a literal secret"),
              "%s", sluice_warnings(db));
    cr_assert_null(strstr(sluice_warnings(db), "sk-literal"));
    cr_assert_eq(sluice_exec(db,
                             "CREATE MODEL n INPUT (p STRING) OUTPUT (a "
                             "STRING) WITH ('provider' = 'openai', "
                             "'api-key' = '${OPENAI_API_KEY}')",
                             NULL, NULL),
                 SLUICE_OK);
    cr_assert_str_eq(sluice_warnings(db), "");
    sluice_close(db);
}
