/*
 * operator.c: helpers shared by the stateful operators (see operator.h):
 * the window aggregate, window rank, OVER and join operators keep their
 * state in SQLite tables and emit rows read back from them; this file
 * turns a result column into a batch value for all of them.
 */
#include "operator.h"

int sl_operator_put_column(sl_batch *out, sl_value *v, const sl_type *type,
                           sqlite3_stmt *st, int i)
{
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_NULL) {
        *v = sl_value_null();
        return SL_OK;
    }
    switch (sl_type_storage(type)) {
    case SL_V_INT:
        if (t == SQLITE_FLOAT)
            *v = sl_value_int((int64_t)sqlite3_column_double(st, i));
        else
            *v = sl_value_int(sqlite3_column_int64(st, i));
        return SL_OK;
    case SL_V_REAL:
        *v = sl_value_real(sqlite3_column_double(st, i));
        return SL_OK;
    case SL_V_BLOB:
        return sl_batch_set_blob(out, v, sqlite3_column_blob(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
    default: {
        const char *s = (const char *)sqlite3_column_text(st, i);
        return sl_batch_set_text(out, v, s ? s : "",
                                 (size_t)sqlite3_column_bytes(st, i));
    }
    }
}
