/*
 * mode_exec.c: golden mode "exec": run the statements through the public
 * API (sluice_exec) and print each result row in changelog form, one per
 * line: "+I[v1, v2]" with NULL for SQL NULL. On failure the output is the
 * engine's error message (sluice_errmsg).
 */
#include "golden.h"

static const char *const kinds[] = {"+I", "-U", "+U", "-D"};

static int collect(void *ctx, const sluice_row *row)
{
    sl_buf *out = ctx;
    int kind = sluice_row_kind(row);
    sl_buf_puts(out, kinds[kind >= 0 && kind < 4 ? kind : 0]);
    sl_buf_putc(out, '[');
    for (int i = 0; i < sluice_row_column_count(row); i++) {
        const char *t = sluice_row_text(row, i);
        if (i)
            sl_buf_puts(out, ", ");
        sl_buf_puts(out, t ? t : "NULL");
    }
    sl_buf_puts(out, "]\n");
    return 0;
}

int golden_mode_exec(const golden_case *c, sl_buf *out)
{
    sluice *db = NULL;
    int rc = sluice_open(&db);
    if (rc) {
        sl_buf_puts(out, sluice_errstr(rc));
        return rc;
    }
    rc = sluice_exec(db, c->sql, collect, out);
    if (rc) {
        sl_buf_reset(out);
        sl_buf_puts(out, sluice_errmsg(db));
    }
    sluice_close(db);
    return rc;
}
