/*
 * vtab.c: the "sl_batch" virtual table module (see vtab.h).
 *
 * A stage's statement scans the current batch through this module: the
 * batch arrives as a typed pointer argument (the HIDDEN `_batch` column used
 * as a table-valued-function argument), and xColumn hands each sl_value to
 * SQLite without conversion or copy. This is the innermost loop of every
 * SQL stage, so the cursor keeps the batch's value array, column count and
 * row bounds in its own fields.
 */
#include <stdatomic.h>
#include <string.h>

#include "vtab.h"

/* Offsets of the hidden columns after the n data columns. */
enum { HID_BATCH = 0, HID_KIND = 1, HID_ETIME = 2, HID_ROW = 3 };

/* idxNum bits chosen by xBestIndex. */
#define IDX_BATCH 0x1
#define IDX_ROW   0x2

typedef struct vtab {
    sqlite3_vtab base;
    int n_cols;
    char name[32]; /* "in_<n>" */
} vtab;

/* sl_vtab_track_used: while a stage prepares its statement on this thread,
 * xBestIndex ORs the columns SQLite will read (colUsed) into *used_mask
 * for the vtab of that name. */
static _Thread_local const char *used_name;
static _Thread_local uint64_t *used_mask;

void sl_vtab_track_used(const char *name, uint64_t *mask)
{
    used_name = name;
    used_mask = mask;
}

typedef struct cursor {
    sqlite3_vtab_cursor base;
    const sl_batch *batch;
    sl_vtab_bind *bind;
    const sl_value *values;
    int n_cols;
    int row;
    int end;
} cursor;

static _Atomic unsigned long next_instance = 1;

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg)
{
    SL_UNUSED(aux);
    sl_buf sql;
    sl_buf_init(&sql, 1u << 20);
    sl_buf_puts(&sql, "CREATE TABLE x(");
    for (int i = 3; i < argc; i++) {
        sl_buf_puts(&sql, argv[i]);
        sl_buf_puts(&sql, ", ");
    }
    sl_buf_puts(&sql, "_batch HIDDEN, _kind INTEGER HIDDEN, "
                      "_etime INTEGER HIDDEN, _row INTEGER HIDDEN)");
    if (sql.rc) {
        sl_buf_free(&sql);
        return SQLITE_NOMEM;
    }
    int rc = sqlite3_declare_vtab(db, sl_buf_cstr(&sql));
    sl_buf_free(&sql);
    if (rc != SQLITE_OK) {
        *errmsg = sqlite3_mprintf("sl_batch: %s", sqlite3_errmsg(db));
        return rc;
    }
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    vtab *vt = sqlite3_malloc(sizeof(*vt));
    if (!vt)
        return SQLITE_NOMEM;
    memset(vt, 0, sizeof(*vt));
    vt->n_cols = argc - 3;
    sl_strlcpy(vt->name, argc > 2 ? argv[2] : "", sizeof(vt->name));
    *out = &vt->base;
    return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *base)
{
    sqlite3_free(base);
    return SQLITE_OK;
}

static int vt_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    vtab *vt = (vtab *)base;
    if (used_mask && !strcmp(vt->name, used_name))
        *used_mask |= (uint64_t)info->colUsed;
    int batch_c = -1, row_c = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
            continue;
        if (c->iColumn == vt->n_cols + HID_BATCH)
            batch_c = i;
        else if (c->iColumn == vt->n_cols + HID_ROW)
            row_c = i;
    }
    int idx = 0, argi = 0;
    if (batch_c >= 0) {
        idx |= IDX_BATCH;
        info->aConstraintUsage[batch_c].argvIndex = ++argi;
        info->aConstraintUsage[batch_c].omit = 1;
    }
    if (row_c >= 0) {
        idx |= IDX_ROW;
        info->aConstraintUsage[row_c].argvIndex = ++argi;
        info->aConstraintUsage[row_c].omit = 1;
    }
    info->idxNum = idx;
    if (!(idx & IDX_BATCH)) {
        /* Without a batch the scan is empty; steer the planner away. */
        info->estimatedCost = 1e12;
        info->estimatedRows = 1;
    } else if (idx & IDX_ROW) {
        info->estimatedCost = 1;
        info->estimatedRows = 1;
        info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
    } else {
        info->estimatedCost = SL_BATCH_DEFAULT_ROWS;
        info->estimatedRows = SL_BATCH_DEFAULT_ROWS;
    }
    /* Rows come in _row order. */
    if (info->nOrderBy == 1 &&
        info->aOrderBy[0].iColumn == vt->n_cols + HID_ROW &&
        !info->aOrderBy[0].desc)
        info->orderByConsumed = 1;
    return SQLITE_OK;
}

static int vt_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    cursor *cur = sqlite3_malloc(sizeof(*cur));
    if (!cur)
        return SQLITE_NOMEM;
    memset(cur, 0, sizeof(*cur));
    cur->n_cols = ((vtab *)base)->n_cols;
    *out = &cur->base;
    return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *base)
{
    sqlite3_free(base);
    return SQLITE_OK;
}

static int vt_filter(sqlite3_vtab_cursor *base, int idx, const char *idx_str,
                     int argc, sqlite3_value **argv)
{
    SL_UNUSED(idx_str);
    cursor *cur = (cursor *)base;
    cur->batch = NULL;
    cur->bind = NULL;
    cur->values = NULL;
    cur->row = 0;
    cur->end = 0;
    int argi = 0;
    if ((idx & IDX_BATCH) && argi < argc) {
        cur->bind = sqlite3_value_pointer(argv[argi++], SL_VTAB_POINTER_TYPE);
        if (cur->bind)
            cur->batch = cur->bind->batch;
    }
    if (!cur->batch)
        return SQLITE_OK;
    if (cur->batch->n_cols != cur->n_cols) {
        sqlite3_free(base->pVtab->zErrMsg);
        base->pVtab->zErrMsg =
            sqlite3_mprintf("sl_batch: batch has %d columns, table declares %d",
                            cur->batch->n_cols, cur->n_cols);
        return SQLITE_ERROR;
    }
    cur->values = cur->batch->values;
    cur->end = cur->batch->n_rows;
    if ((idx & IDX_ROW) && argi < argc) {
        sqlite3_value *v = argv[argi++];
        int64_t r = sqlite3_value_int64(v);
        if (sqlite3_value_numeric_type(v) != SQLITE_INTEGER || r < 0 ||
            r >= cur->end) {
            cur->end = 0;
        } else {
            cur->row = (int)r;
            cur->end = (int)r + 1;
        }
    }
    cur->bind->cur_row = cur->row;
    return SQLITE_OK;
}

static int vt_next(sqlite3_vtab_cursor *base)
{
    cursor *cur = (cursor *)base;
    cur->row++;
    if (cur->row < cur->end)
        cur->bind->cur_row = cur->row;
    return SQLITE_OK;
}

static int vt_eof(sqlite3_vtab_cursor *base)
{
    cursor *cur = (cursor *)base;
    return cur->row >= cur->end;
}

static int vt_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int i)
{
    cursor *cur = (cursor *)base;
    if (i < cur->n_cols) {
        const sl_value *v =
            &cur->values[(size_t)cur->row * (size_t)cur->n_cols + (size_t)i];
        switch (v->kind) {
        case SL_V_INT:
            sqlite3_result_int64(ctx, v->u.i);
            break;
        case SL_V_REAL:
            sqlite3_result_double(ctx, v->u.d);
            break;
        case SL_V_TEXT:
            sqlite3_result_text(ctx, v->u.s, (int)v->len, SQLITE_STATIC);
            break;
        case SL_V_BLOB:
            sqlite3_result_blob(ctx, v->u.b, (int)v->len, SQLITE_STATIC);
            break;
        default:
            break; /* NULL is the default result */
        }
        return SQLITE_OK;
    }
    switch (i - cur->n_cols) {
    case HID_KIND:
        sqlite3_result_int(ctx, cur->batch->kinds[cur->row]);
        break;
    case HID_ETIME: {
        int64_t t = cur->batch->event_time[cur->row];
        if (t != SL_NO_EVENT_TIME)
            sqlite3_result_int64(ctx, t);
        break;
    }
    case HID_ROW:
        sqlite3_result_int(ctx, cur->row);
        break;
    default:
        break; /* _batch reads as NULL */
    }
    return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
    *rowid = ((cursor *)base)->row;
    return SQLITE_OK;
}

static const sqlite3_module module = {
    .iVersion = 1,
    .xCreate = vt_connect,
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

int sl_vtab_register(sqlite3 *db, sl_err *err)
{
    int rc = sqlite3_create_module_v2(db, SL_VTAB_MODULE, &module, NULL, NULL);
    if (rc != SQLITE_OK)
        return sl_err_set(err, SL_ERROR,
                          "cannot register the sl_batch module: %s",
                          sqlite3_errmsg(db));
    return SL_OK;
}

const char *sl_vtab_decltype(const sl_type *type)
{
    switch (sl_type_storage(type)) {
    case SL_V_INT:
        return "INTEGER";
    case SL_V_REAL:
        return "REAL";
    case SL_V_BLOB:
        return "BLOB";
    default:
        return "TEXT";
    }
}

static void put_ident(sl_buf *buf, const char *name)
{
    sl_buf_putc(buf, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            sl_buf_putc(buf, '"');
        sl_buf_putc(buf, *p);
    }
    sl_buf_putc(buf, '"');
}

int sl_vtab_create(sqlite3 *db, const sl_schema *schema, char *name,
                   size_t name_size, sl_err *err)
{
    int rc = sl_vtab_register(db, err);
    if (rc)
        return rc;
    unsigned long n = atomic_fetch_add(&next_instance, 1);
    if (sl_snprintf(name, name_size, "in_%lu", n) >= (int)name_size)
        return sl_err_set(err, SL_MISUSE, "vtab name buffer too small");
    sl_buf sql;
    sl_buf_init(&sql, 1u << 20);
    sl_buf_printf(&sql, "CREATE VIRTUAL TABLE temp.\"%s\" USING %s(", name,
                  SL_VTAB_MODULE);
    for (int i = 0; i < schema->n_cols; i++) {
        if (i)
            sl_buf_puts(&sql, ", ");
        put_ident(&sql, schema->cols[i].name);
        sl_buf_putc(&sql, ' ');
        sl_buf_puts(&sql, sl_vtab_decltype(schema->cols[i].type));
    }
    sl_buf_putc(&sql, ')');
    if (sql.rc) {
        sl_buf_free(&sql);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    char *msg = NULL;
    rc = sqlite3_exec(db, sl_buf_cstr(&sql), NULL, NULL, &msg);
    sl_buf_free(&sql);
    if (rc != SQLITE_OK) {
        rc = sl_err_set(err, rc == SQLITE_NOMEM ? SL_NOMEM : SL_ERROR,
                        "cannot create the input table of a stage: %s",
                        msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc;
    }
    return SL_OK;
}

void sl_vtab_drop(sqlite3 *db, const char *name)
{
    char sql[96];
    if (sl_snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS temp.\"%s\"",
                    name) >= (int)sizeof(sql))
        return;
    sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int sl_vtab_input_ref(const char *name, sl_buf *out)
{
    return sl_buf_printf(out, "temp.\"%s\"(%s)", name, SL_VTAB_PARAM);
}
