/*
 * exec.c: statement dispatch for sluice_exec.
 *
 * Splits the text into statements (through the parser once it exists) and
 * runs each in order. Until the parser lands this reports every non-empty
 * input as unsupported, so callers get an honest error, not silence.
 */
#include <ctype.h>

#include "engine_int.h"

int sl_engine_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ctx)
{
    SL_UNUSED(cb);
    SL_UNUSED(ctx);
    for (const char *p = sql; *p; p++) {
        if (!isspace((unsigned char)*p) && *p != ';')
            return sl_err_set(&db->err, SL_UNSUPPORTED,
                              "SQL statements are not supported yet");
    }
    return SL_OK;
}
