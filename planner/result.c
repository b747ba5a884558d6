/*
 * result.c: the sluice_row accessors of the public API.
 *
 * A result row is a view over values the planner has already turned into
 * their canonical text (and, for numbers, their numeric value), valid only
 * during the row callback. See sl_result_row in engine_int.h.
 */
#include <string.h>

#include "engine_int.h"

SLUICE_API int sluice_row_column_count(const sluice_row *row)
{
    return row ? row->n_cols : 0;
}

static bool in_range(const sluice_row *row, int i)
{
    return row && i >= 0 && i < row->n_cols;
}

SLUICE_API const char *sluice_row_column_name(const sluice_row *row, int i)
{
    return in_range(row, i) ? row->names[i] : NULL;
}

SLUICE_API const char *sluice_row_column_type(const sluice_row *row, int i)
{
    return in_range(row, i) ? row->types[i] : NULL;
}

SLUICE_API int sluice_row_kind(const sluice_row *row)
{
    return row ? row->kind : SLUICE_ROW_INSERT;
}

SLUICE_API int sluice_row_is_null(const sluice_row *row, int i)
{
    return !in_range(row, i) || row->texts[i] == NULL;
}

SLUICE_API const char *sluice_row_text(const sluice_row *row, int i)
{
    return in_range(row, i) ? row->texts[i] : NULL;
}

SLUICE_API int64_t sluice_row_int64(const sluice_row *row, int i)
{
    int64_t v = 0;
    if (in_range(row, i) && row->texts[i]) {
        const char *t = row->texts[i];
        if (sl_parse_int64(t, strlen(t), &v) != SL_OK) {
            double d = 0;
            if (sl_parse_double(t, strlen(t), &d) == SL_OK)
                v = (int64_t)d;
        }
    }
    return v;
}

SLUICE_API double sluice_row_double(const sluice_row *row, int i)
{
    double v = 0;
    if (in_range(row, i) && row->texts[i])
        sl_parse_double(row->texts[i], strlen(row->texts[i]), &v);
    return v;
}
