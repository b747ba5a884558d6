/*
 * stage.c: SQL stages (see stage.h): one prepared statement per stage, run
 * once per batch through the sl_batch virtual table.
 *
 * Hot path: sl_stage_run points the stage's bind record at the batch (the
 * pointer itself was bound once at prepare time), steps the statement and
 * copies each result row into the out batch, converting to the storage
 * class of the out column and carrying kind, event time and source
 * position over from the input row named by the trailing `_row` column.
 *
 * Pass-through columns: an out column that is just an input column (by
 * SQLite's column origin: `SELECT user_id, url ... FROM {input} WHERE ...`)
 * is not computed by SQLite at all. The stage prepares its SQL wrapped as
 * `WITH sl_pass(p0..pn) AS (<sql>) SELECT NULL, p1, ..., pn FROM sl_pass`,
 * which SQLite flattens so that it no longer reads those columns from the
 * vtab, and copies their values straight from the input row `_row` names.
 * This is only done where the origin is certain to be that row (see
 * find_pass), and it halves the cost of a filter/project stage.
 */
#include <math.h>
#include <string.h>

#include "stage.h"
#include "vtab.h"

struct sl_stage {
    sqlite3 *db;
    sqlite3_stmt *stmt;
    char *sql;
    char *name;
    char vtab[32];
    const sl_schema *in;
    const sl_schema *out;
    unsigned flags;
    uint8_t *store; /* storage class per out column */
    uint8_t *not_null;
    int *pass;     /* per out column: the input column it copies, or -1 */
    int n_pass;    /* out columns copied from the input row */
    uint64_t used; /* input columns the SQL reads (SQLite's colUsed) */
    sl_vtab_bind bind;
    const sl_batch *cur_in;
    bool pending;
};

static int substitute(const char *tmpl, const char *ref, sl_buf *out)
{
    static const char key[] = "{input}";
    const char *p = tmpl;
    for (;;) {
        const char *hit = strstr(p, key);
        if (!hit) {
            sl_buf_puts(out, p);
            break;
        }
        sl_buf_append(out, p, (size_t)(hit - p));
        sl_buf_puts(out, ref);
        p = hit + sizeof(key) - 1;
    }
    return out->rc;
}

/* ---- pass-through columns ----------------------------------------------
 *
 * SQLite reports, for a result column that is a bare column reference
 * (also through flattened or materialized subqueries), the table and
 * column it comes from. Where that is a column of the stage's vtab and
 * the trailing _row comes from the vtab's _row, both come from the same
 * vtab row as long as the vtab is read by one cursor and every result row
 * comes from that one SELECT: the template names {input} once and the SQL
 * has no WITH (a CTE can be scanned twice), no compound SELECT (rows of
 * another arm are not vtab rows, yet SQLite reports the first arm's
 * origin) and no subquery outside FROM/JOIN (see plain_shape). Aggregates and
 * window functions take bare columns and _row from the same row. The out column
 * must have the input column's storage class, so that the SQL path would have
 * copied the value unchanged. */

static int count_input(const char *tmpl)
{
    int n = 0;
    for (const char *p = tmpl; (p = strstr(p, "{input}")) != NULL; p += 7)
        n++;
    return n;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || (unsigned char)c >= 0x80;
}

/* Is sql free of what can make a result column name an input column yet
 * hold another value: WITH, a compound SELECT, or a subquery anywhere but
 * in a FROM or JOIN (a scalar subquery returning a correlated column of
 * the input gives NULL when it finds no row)? Looks at the tokens outside
 * string literals and quoted identifiers. */
static bool plain_shape(const char *sql)
{
    static const char *const risky[] = {"WITH", "UNION", "INTERSECT", "EXCEPT"};
    const char *p = sql;
    const char *prev = NULL, *prev2 = NULL; /* the last two tokens */
    size_t n_prev = 0, n_prev2 = 0;
    while (*p) {
        char q = *p;
        const char *tok = p;
        if (q == ' ' || q == '\t' || q == '\n' || q == '\r') {
            p++;
            continue;
        }
        if (q == '\'' || q == '"' || q == '`' || q == '[') {
            char end = q == '[' ? ']' : q;
            p++;
            while (*p && *p != end)
                p++;
            if (*p)
                p++;
        } else if (word_char(q)) {
            while (word_char(*p))
                p++;
            size_t n = (size_t)(p - tok);
            for (size_t k = 0; k < SL_ARRAY_LEN(risky); k++)
                if (strlen(risky[k]) == n &&
                    !sqlite3_strnicmp(tok, risky[k], (int)n))
                    return false;
            if (n == 6 && !sqlite3_strnicmp(tok, "SELECT", 6) && prev &&
                !(n_prev == 1 && *prev == '(' && prev2 &&
                  ((n_prev2 == 4 && !sqlite3_strnicmp(prev2, "FROM", 4)) ||
                   (n_prev2 == 4 && !sqlite3_strnicmp(prev2, "JOIN", 4)))))
                return false;
        } else {
            p++;
        }
        prev2 = prev;
        n_prev2 = n_prev;
        prev = tok;
        n_prev = (size_t)(p - tok);
    }
    return true;
}

static bool from_vtab(sl_stage *stage, int c, const char **origin)
{
    const char *db = sqlite3_column_database_name(stage->stmt, c);
    const char *tab = sqlite3_column_table_name(stage->stmt, c);
    *origin = sqlite3_column_origin_name(stage->stmt, c);
    return db && tab && *origin && !strcmp(db, "temp") &&
           !strcmp(tab, stage->vtab);
}

/* Fill stage->pass from the prepared statement; returns the count. */
static int find_pass(sl_stage *stage)
{
    const char *origin;
    int n_out = stage->out->n_cols;
    if (!plain_shape(stage->sql) || !from_vtab(stage, n_out, &origin) ||
        strcmp(origin, "_row"))
        return 0;
    int n = 0;
    for (int c = 0; c < n_out; c++) {
        if (!from_vtab(stage, c, &origin))
            continue;
        for (int j = 0; j < stage->in->n_cols; j++) {
            if (!strcmp(stage->in->cols[j].name, origin) &&
                sl_type_storage(stage->in->cols[j].type) == stage->store[c]) {
                stage->pass[c] = j;
                n++;
                break;
            }
        }
    }
    return n;
}

/* Re-prepare the stage's SQL without its pass-through columns. Any
 * failure to do so keeps the statement as it was (all columns by SQL). */
static int use_pass(sl_stage *stage, sl_err *err)
{
    int n_out = stage->out->n_cols;
    if (find_pass(stage) == 0)
        return SL_OK;
    sl_buf sql;
    sl_buf_init(&sql, (16u << 20) + 4096u + (size_t)n_out * 16u);
    sl_buf_puts(&sql, "WITH sl_pass(");
    for (int c = 0; c <= n_out; c++)
        sl_buf_printf(&sql, "%sp%d", c ? ", " : "", c);
    sl_buf_printf(&sql, ") AS (%s) SELECT ", stage->sql);
    for (int c = 0; c <= n_out; c++) {
        if (c < n_out && stage->pass[c] >= 0)
            sl_buf_printf(&sql, "%sNULL", c ? ", " : "");
        else
            sl_buf_printf(&sql, "%sp%d", c ? ", " : "", c);
    }
    sl_buf_puts(&sql, " FROM sl_pass");
    sqlite3_stmt *st = NULL;
    int rc = sql.rc ? SQLITE_NOMEM
                    : sqlite3_prepare_v3(stage->db, sl_buf_cstr(&sql), -1,
                                         SQLITE_PREPARE_PERSISTENT, &st, NULL);
    sl_buf_free(&sql);
    if (rc == SQLITE_NOMEM)
        return sl_err_set(err, SL_NOMEM, "stage '%s': out of memory",
                          stage->name);
    if (rc != SQLITE_OK || !st || sqlite3_column_count(st) != n_out + 1) {
        sqlite3_finalize(st);
        for (int c = 0; c < n_out; c++)
            stage->pass[c] = -1;
        return SL_OK;
    }
    sqlite3_finalize(stage->stmt);
    stage->stmt = st;
    stage->n_pass = 0;
    for (int c = 0; c < n_out; c++)
        stage->n_pass += stage->pass[c] >= 0;
    return SL_OK;
}

int sl_stage_new(sqlite3 *db, const sl_schema *in, const sl_schema *out,
                 const char *sql_template, sl_stage **stage, sl_err *err)
{
    return sl_stage_new_ex(db, in, out, sql_template, NULL, stage, err);
}

int sl_stage_new_ex(sqlite3 *db, const sl_schema *in, const sl_schema *out,
                    const char *sql_template, const sl_stage_opts *opts,
                    sl_stage **stage_out, sl_err *err)
{
    *stage_out = NULL;
    if (!db || !in || !out || !sql_template)
        return sl_err_set(err, SL_MISUSE, "sl_stage_new: missing argument");
    sl_stage *stage = sl_calloc(1, sizeof(*stage));
    if (!stage)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    stage->db = db;
    stage->in = in;
    stage->out = out;
    stage->flags = opts ? opts->flags : 0;
    stage->name = sl_strdup(opts && opts->name ? opts->name : "stage");
    size_t n_out = (size_t)(out->n_cols ? out->n_cols : 1);
    stage->store = sl_malloc(n_out);
    stage->not_null = sl_malloc(n_out);
    stage->pass = sl_malloc(n_out * sizeof(int));
    stage->bind.cur_row = -1;
    if (!stage->name || !stage->store || !stage->not_null || !stage->pass) {
        sl_stage_free(stage);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    for (int c = 0; c < out->n_cols; c++) {
        stage->store[c] = (uint8_t)sl_type_storage(out->cols[c].type);
        stage->not_null[c] = out->cols[c].type->not_null;
        stage->pass[c] = -1;
    }
    int rc = sl_vtab_create(db, in, stage->vtab, sizeof(stage->vtab), err);
    if (rc) {
        stage->vtab[0] = '\0';
        sl_stage_free(stage);
        return rc;
    }
    sl_buf ref, sql;
    sl_buf_init(&ref, 256);
    sl_buf_init(&sql, 16u << 20);
    sl_vtab_input_ref(stage->vtab, &ref);
    substitute(sql_template, sl_buf_cstr(&ref), &sql);
    sl_buf_free(&ref);
    if (sql.rc) {
        sl_buf_free(&sql);
        sl_stage_free(stage);
        return sl_err_set(err, SL_NOMEM, "stage SQL too large or no memory");
    }
    stage->sql = sl_buf_steal(&sql);
    sl_vtab_track_used(stage->vtab, &stage->used);
    rc = sqlite3_prepare_v3(db, stage->sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &stage->stmt, NULL);
    sl_vtab_track_used(NULL, NULL);
    if (rc != SQLITE_OK || !stage->stmt) {
        sl_err_set(err, SL_SQL, "stage '%s': cannot prepare: %s (SQL: %s)",
                   stage->name,
                   rc == SQLITE_OK ? "no statement" : sqlite3_errmsg(db),
                   stage->sql);
        sl_stage_free(stage);
        return SL_SQL;
    }
    int want = out->n_cols + ((stage->flags & SL_STAGE_NO_ROW) ? 0 : 1);
    int got = sqlite3_column_count(stage->stmt);
    if (got != want) {
        sl_err_set(err, SL_SQL,
                   "stage '%s': the SQL returns %d columns, expected %d "
                   "(%d output columns%s)",
                   stage->name, got, want, out->n_cols,
                   (stage->flags & SL_STAGE_NO_ROW) ? ""
                                                    : " then the input _row");
        sl_stage_free(stage);
        return SL_SQL;
    }
    if (!(stage->flags & SL_STAGE_NO_ROW) && count_input(sql_template) == 1) {
        rc = use_pass(stage, err);
        if (rc) {
            sl_stage_free(stage);
            return rc;
        }
    }
    int idx = sqlite3_bind_parameter_index(stage->stmt, SL_VTAB_PARAM);
    if (idx > 0 &&
        sqlite3_bind_pointer(stage->stmt, idx, &stage->bind,
                             SL_VTAB_POINTER_TYPE, NULL) != SQLITE_OK) {
        sl_err_set(err, SL_ERROR, "stage '%s': cannot bind the input: %s",
                   stage->name, sqlite3_errmsg(db));
        sl_stage_free(stage);
        return SL_ERROR;
    }
    *stage_out = stage;
    return SL_OK;
}

void sl_stage_free(sl_stage *stage)
{
    if (!stage)
        return;
    if (stage->stmt)
        sqlite3_finalize(stage->stmt);
    if (stage->vtab[0])
        sl_vtab_drop(stage->db, stage->vtab);
    sl_free(stage->sql);
    sl_free(stage->name);
    sl_free(stage->store);
    sl_free(stage->not_null);
    sl_free(stage->pass);
    sl_free(stage);
}

static const char *storage_name(int t)
{
    switch (t) {
    case SQLITE_INTEGER:
        return "INTEGER";
    case SQLITE_FLOAT:
        return "REAL";
    case SQLITE_TEXT:
        return "TEXT";
    case SQLITE_BLOB:
        return "BLOB";
    default:
        return "NULL";
    }
}

/* Describe the input row the statement was on, for messages. */
static void where_text(const sl_stage *stage, int row, char *buf, size_t size)
{
    const sl_batch *in = stage->cur_in;
    if (!in || row < 0 || row >= in->n_rows) {
        buf[0] = '\0';
        return;
    }
    const sl_srcpos *pos = &in->pos[row];
    if (pos->split >= 0 || pos->offset >= 0)
        sl_snprintf(buf, size, " (input row from split %d offset %lld)",
                    (int)pos->split, (long long)pos->offset);
    else
        sl_snprintf(buf, size, " (input row %d of the batch)", row);
}

static int fail_row(sl_stage *stage, sl_err *err, int code, int row,
                    const char *what)
{
    char where[96];
    where_text(stage, row, where, sizeof(where));
    return sl_err_set(err, code, "stage '%s': %s%s", stage->name, what, where);
}

/* row: the input row the value comes from, for the message. */
static int null_into(sl_stage *stage, sl_value *v, int c, int row, sl_err *err)
{
    v->kind = SL_V_NULL;
    if (!stage->not_null[c])
        return SL_OK;
    char msg[256];
    sl_snprintf(msg, sizeof(msg),
                "column '%s' is NOT NULL, however, a null value "
                "is being written into it",
                stage->out->cols[c].name);
    return fail_row(stage, err, SL_RUNTIME, row, msg);
}

static int wrong_storage(sl_stage *stage, int c, int row, int t,
                         const char *txt, sl_err *err)
{
    char msg[384];
    const sl_schema *schema = stage->out;
    sl_snprintf(msg, sizeof(msg),
                "column '%s' is declared %s but the stage produced %s "
                "value '%.64s'",
                schema->cols[c].name, sl_type_id_name(schema->cols[c].type->id),
                storage_name(t), txt ? txt : "");
    return fail_row(stage, err, SL_RUNTIME, row, msg);
}

static int bytes_into(sl_stage *stage, sl_batch *out, sl_value *v, bool blob,
                      const void *p, size_t n, sl_err *err)
{
    int rc = blob ? sl_batch_set_blob(out, v, p, n)
                  : sl_batch_set_text(out, v, p ? p : "", n);
    if (rc)
        return sl_err_set(err, rc,
                          "stage '%s': the output batch ran out of memory "
                          "(arena bound %u bytes)",
                          stage->name, (unsigned)SL_BATCH_ARENA_MAX);
    return SL_OK;
}

/* Store pass-through column c's value from input row `row` into out with
 * the rules copy_row applies to SQLite's values (a batch value normally
 * already has its column's storage class, which is the out column's: see
 * find_pass). */
static int copy_pass(sl_stage *stage, sl_batch *out, sl_value *v, int c,
                     int row, sl_err *err)
{
    const sl_value *src = &sl_batch_crow(stage->cur_in, row)[stage->pass[c]];
    int want = stage->store[c];
    if (src->kind == SL_V_NULL)
        return null_into(stage, v, c, row, err);
    if (src->kind == want && (want == SL_V_INT || want == SL_V_REAL)) {
        *v = *src;
        return SL_OK;
    }
    char num[64];
    const char *p = num;
    size_t n;
    switch (src->kind) {
    case SL_V_INT:
        if (want == SL_V_REAL) {
            v->kind = SL_V_REAL;
            v->u.d = (double)src->u.i;
            return SL_OK;
        }
        sqlite3_snprintf(sizeof(num), num, "%lld", (long long)src->u.i);
        n = strlen(num);
        break;
    case SL_V_REAL:
        if (want == SL_V_INT) {
            double d = src->u.d;
            if (isfinite(d) && d >= -9223372036854775808.0 &&
                d < 9223372036854775808.0) {
                v->kind = SL_V_INT;
                v->u.i = (int64_t)d;
                return SL_OK;
            }
            sqlite3_snprintf(sizeof(num), num, "%!.15g", d);
            return wrong_storage(stage, c, row, SQLITE_FLOAT, num, err);
        }
        sqlite3_snprintf(sizeof(num), num, "%!.15g", src->u.d);
        n = strlen(num);
        break;
    default: /* TEXT or BLOB */
        p = src->u.s;
        n = src->len;
        if (want == SL_V_INT || want == SL_V_REAL) {
            char txt[72];
            sl_snprintf(txt, sizeof(txt), "%.*s", (int)SL_MIN(n, 64u),
                        p ? p : "");
            return wrong_storage(
                stage, c, row,
                src->kind == SL_V_TEXT ? SQLITE_TEXT : SQLITE_BLOB, txt, err);
        }
        break;
    }
    return bytes_into(stage, out, v, want == SL_V_BLOB, p, n, err);
}

static int copy_text(sl_stage *stage, sl_batch *out, sl_value *v, int c,
                     bool blob, int type, sl_err *err)
{
    sqlite3_stmt *st = stage->stmt;
    /* Text is read as bytes: sqlite3_column_text would first copy a string
     * that the sl_batch vtab handed over without its NUL (a malloc, copy
     * and free per value); sl_batch_set_text terminates the copy anyway. */
    const void *p = blob || type == SQLITE_TEXT
                        ? sqlite3_column_blob(st, c)
                        : (const void *)sqlite3_column_text(st, c);
    int n = sqlite3_column_bytes(st, c);
    if (!p && n > 0)
        return sl_err_set(err, SL_NOMEM, "stage '%s': out of memory",
                          stage->name);
    return bytes_into(stage, out, v, blob, p, (size_t)n, err);
}

/* Copy the current result row into out. */
static int copy_row(sl_stage *stage, sl_batch *out, sl_err *err)
{
    sqlite3_stmt *st = stage->stmt;
    const sl_schema *schema = stage->out;
    int r = out->n_rows;
    sl_value *row = out->values + (size_t)r * (size_t)out->n_cols;
    const sl_batch *in = stage->cur_in;
    int64_t src = -1;
    if (!(stage->flags & SL_STAGE_NO_ROW)) {
        int c = schema->n_cols;
        src = sqlite3_column_int64(st, c);
        if (sqlite3_column_type(st, c) != SQLITE_INTEGER || src < 0 ||
            src >= in->n_rows) {
            char msg[160];
            sl_snprintf(msg, sizeof(msg),
                        "the last result column must be the input _row, "
                        "got %s",
                        storage_name(sqlite3_column_type(st, c)));
            return fail_row(stage, err, SL_ERROR, -1, msg);
        }
    }
    int rc = SL_OK;
    for (int c = 0; c < schema->n_cols; c++) {
        sl_value *v = &row[c];
        if (stage->pass[c] >= 0) {
            rc = copy_pass(stage, out, v, c, (int)src, err);
            if (rc)
                return rc;
            continue;
        }
        int t = sqlite3_column_type(st, c);
        if (t == SQLITE_NULL) {
            rc = null_into(stage, v, c, stage->bind.cur_row, err);
            if (rc)
                return rc;
            continue;
        }
        switch (stage->store[c]) {
        case SL_V_INT:
            if (t == SQLITE_INTEGER) {
                v->kind = SL_V_INT;
                v->u.i = sqlite3_column_int64(st, c);
                continue;
            }
            if (t == SQLITE_FLOAT) {
                double d = sqlite3_column_double(st, c);
                if (isfinite(d) && d >= -9223372036854775808.0 &&
                    d < 9223372036854775808.0) {
                    v->kind = SL_V_INT;
                    v->u.i = (int64_t)d;
                    continue;
                }
            }
            break;
        case SL_V_REAL:
            if (t == SQLITE_FLOAT) {
                v->kind = SL_V_REAL;
                v->u.d = sqlite3_column_double(st, c);
                continue;
            }
            if (t == SQLITE_INTEGER) {
                v->kind = SL_V_REAL;
                v->u.d = (double)sqlite3_column_int64(st, c);
                continue;
            }
            break;
        case SL_V_BLOB:
            rc = copy_text(stage, out, v, c, true, t, err);
            if (rc)
                return rc;
            continue;
        default:
            rc = copy_text(stage, out, v, c, false, t, err);
            if (rc)
                return rc;
            continue;
        }
        return wrong_storage(stage, c, stage->bind.cur_row, t,
                             (const char *)sqlite3_column_text(st, c), err);
    }
    if (stage->flags & SL_STAGE_NO_ROW) {
        out->kinds[r] = SLUICE_ROW_INSERT;
        out->event_time[r] = SL_NO_EVENT_TIME;
        out->pos[r] = (sl_srcpos){-1, -1};
    } else {
        out->kinds[r] = in->kinds[src];
        out->event_time[r] = in->event_time[src];
        out->pos[r] = in->pos[src];
    }
    out->n_rows = r + 1;
    return SL_OK;
}

static int step_rows(sl_stage *stage, sl_batch *out, sl_err *err)
{
    sqlite3_stmt *st = stage->stmt;
    while (out->n_rows < out->cap_rows) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            rc = copy_row(stage, out, err);
            if (rc) {
                sl_stage_reset(stage);
                return rc;
            }
            continue;
        }
        if (rc == SQLITE_DONE) {
            sqlite3_reset(st);
            stage->pending = false;
            stage->cur_in = NULL;
            return SL_OK;
        }
        char msg[SL_ERR_MSG_MAX / 2];
        sl_snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(stage->db));
        rc = fail_row(stage, err, rc == SQLITE_NOMEM ? SL_NOMEM : SL_RUNTIME,
                      stage->bind.cur_row, msg);
        sl_stage_reset(stage);
        return rc;
    }
    stage->pending = true;
    return SL_OK;
}

int sl_stage_run(sl_stage *stage, const sl_batch *in, sl_batch *out,
                 sl_err *err)
{
    if (stage->pending)
        return sl_err_set(err, SL_MISUSE,
                          "stage '%s': run while a run is pending",
                          stage->name);
    stage->bind.batch = in;
    stage->bind.cur_row = -1;
    stage->cur_in = in;
    return step_rows(stage, out, err);
}

int sl_stage_resume(sl_stage *stage, sl_batch *out, sl_err *err)
{
    if (!stage->pending)
        return SL_OK;
    return step_rows(stage, out, err);
}

bool sl_stage_pending(const sl_stage *stage)
{
    return stage->pending;
}

void sl_stage_reset(sl_stage *stage)
{
    sqlite3_reset(stage->stmt);
    stage->pending = false;
    stage->cur_in = NULL;
    stage->bind.batch = NULL;
}

const char *sl_stage_explain(const sl_stage *stage)
{
    return stage->sql;
}

const char *sl_stage_name(const sl_stage *stage)
{
    return stage->name;
}

const sl_schema *sl_stage_in_schema(const sl_stage *stage)
{
    return stage->in;
}

const sl_schema *sl_stage_out_schema(const sl_stage *stage)
{
    return stage->out;
}

bool sl_stage_columns_used(const sl_stage *stage, bool *used)
{
    if (stage->used == 0)
        return false;
    for (int j = 0; j < stage->in->n_cols; j++)
        used[j] = (stage->used >> (j < 63 ? j : 63)) & 1u;
    return true;
}

int sl_stage_pass_columns(const sl_stage *stage)
{
    return stage->n_pass;
}

sqlite3_stmt *sl_stage_stmt(sl_stage *stage)
{
    return stage->stmt;
}
