/*
 * datagen.c: the 'datagen' source, Flink's data generator: rows of random
 * or sequential values at a bounded rate, unbounded or up to
 * 'number-of-rows' (or until a sequence ends).
 *
 * Each column gets a generator compiled at open time from its
 * 'fields.<col>.*' options into a small op code, so the per-row loop is a
 * switch per column over a splitmix64 stream (deterministic for a given
 * 'seed', a Sluice extension; values are drawn in row order, then column
 * order; a column with a null-rate draws its NULL decision first). Strings
 * are hex text written straight into the batch arena; ARRAY/MAP/ROW values
 * are JSON text. The rate limit never sleeps: read() computes from the
 * monotonic clock how many rows are due, and when none are it returns
 * SL_READ_IDLE with the time of the next one in wait_hint. With a seed,
 * "now" for temporal values is a simulated clock (2024-01-01 00:00:00 UTC
 * plus one 1/rows-per-second tick per row) so runs repeat exactly.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "connector.h"

#define DG_SEEDED_EPOCH_MS 1704067200000LL /* 2024-01-01 00:00:00 UTC */
#define DG_MAX_LENGTH      (1 << 20)
#define DG_NESTED_STRLEN   10
#define DG_MAX_NEST        16

static const sl_option_def datagen_options[] = {
    {"rows-per-second", "int", "10000",
     "Rows generated per second (rate limit)."},
    {"number-of-rows", "int", NULL,
     "Total rows to generate; the source is bounded when set (default: "
     "unbounded)."},
    {"seed", "int", NULL,
     "Sluice extension: seed of the random generator; the same seed gives "
     "the same rows (default: random)."},
    {"fields.#.kind", "enum", "random", "Generator: 'random' or 'sequence'."},
    {"fields.#.min", "number", NULL,
     "Smallest random value (numeric types; default: the type's minimum)."},
    {"fields.#.max", "number", NULL,
     "Largest random value (numeric types; default: the type's maximum)."},
    {"fields.#.max-past", "duration", "0",
     "Random timestamps/dates lie between now minus max-past and now."},
    {"fields.#.length", "int", "100",
     "Length of random strings and bytes (capped by CHAR(n)/VARCHAR(n)); "
     "size of arrays and maps (default 3)."},
    {"fields.#.var-len", "bool", "false",
     "Random strings/bytes get a random length between 1 and length."},
    {"fields.#.start", "number", NULL, "First value of a sequence."},
    {"fields.#.end", "number", NULL,
     "Last value of a sequence; the source ends after it."},
    {"fields.#.null-rate", "number", "0",
     "Fraction (0..1) of values that are NULL."},
    {NULL, NULL, NULL, NULL},
};

typedef enum gen_op {
    OP_INT,     /* uniform integer in [imin, imax] */
    OP_REAL,    /* uniform double in [dmin, dmax] */
    OP_DECIMAL, /* uniform, rounded to scale */
    OP_BOOL,
    OP_STRING,
    OP_BYTES,
    OP_DATE,
    OP_TIME,
    OP_TIMESTAMP,
    OP_NESTED,
    OP_SEQ_INT,
    OP_SEQ_REAL,
    OP_SEQ_STRING,
} gen_op;

typedef struct gen {
    gen_op op;
    int col;
    const sl_type *type;
    uint64_t null_threshold; /* NULL when next() < threshold; 0: never */
    int64_t imin;
    uint64_t irange; /* imax - imin + 1; 0 means all 2^64 values */
    double dmin, dspan, dscale;
    int length;
    bool var_len;
    int64_t max_past_ms;
    int64_t seq_next, seq_end;
} gen;

typedef struct dg_source {
    sl_source base;
    int n_gens;
    gen *gens;
    uint64_t rng;
    bool seeded;
    int64_t rows_per_second;
    int64_t total; /* rows until the end, -1 when unbounded */
    int64_t emitted;
    int64_t start_ns;
    int64_t wakeup_ms;
    sl_buf scratch;
} dg_source;

static inline uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline double next_unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static inline uint64_t next_below(uint64_t *s, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)next_u64(s) * n) >> 64);
}

static const char hexd[] = "0123456789abcdef";

static void fill_hex(uint64_t *s, char *d, int n)
{
    while (n > 0) {
        uint64_t r = next_u64(s);
        for (int k = 0; k < 16 && n > 0; k++, n--) {
            *d++ = hexd[r & 15];
            r >>= 4;
        }
    }
}

static void type_int_range(const sl_type *t, int64_t *lo, int64_t *hi)
{
    switch (t->id) {
    case SL_TYPE_TINYINT:
        *lo = INT8_MIN, *hi = INT8_MAX;
        break;
    case SL_TYPE_SMALLINT:
        *lo = INT16_MIN, *hi = INT16_MAX;
        break;
    case SL_TYPE_INT:
        *lo = INT32_MIN, *hi = INT32_MAX;
        break;
    default:
        *lo = INT64_MIN, *hi = INT64_MAX;
    }
}

/* "Now" for temporal values of the row about to be generated. */
static int64_t now_ms(const dg_source *s)
{
    if (s->seeded)
        return DG_SEEDED_EPOCH_MS + s->emitted * 1000 / s->rows_per_second;
    return sl_now_ms();
}

/* ---- nested JSON values ------------------------------------------------- */

static void put_nested(dg_source *s, const sl_type *t, int len, int64_t now,
                       int depth, sl_buf *b);

static void put_scalar_json(dg_source *s, const sl_type *t, int64_t now,
                            sl_buf *b)
{
    uint64_t *r = &s->rng;
    int64_t lo, hi;
    char tmp[32];
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        sl_buf_puts(b, next_u64(r) >> 63 ? "true" : "false");
        break;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
        type_int_range(t, &lo, &hi);
        sl_buf_printf(b, "%" PRId64,
                      (int64_t)((uint64_t)lo +
                                next_below(r, (uint64_t)hi - (uint64_t)lo)));
        break;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        sl_buf_printf(b, "%.6f", next_unit(r));
        break;
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
        fill_hex(r, tmp, DG_NESTED_STRLEN);
        sl_buf_putc(b, '"');
        sl_buf_append(b, tmp, DG_NESTED_STRLEN);
        sl_buf_putc(b, '"');
        break;
    case SL_TYPE_DATE:
    case SL_TYPE_TIME:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ: {
        sl_value v = sl_value_int(t->id == SL_TYPE_DATE ? now / 86400000
                                  : t->id == SL_TYPE_TIME
                                      ? (int64_t)next_below(r, 86400000)
                                      : now);
        sl_buf_putc(b, '"');
        sl_value_format(t, &v, b, NULL);
        sl_buf_putc(b, '"');
        break;
    }
    default:
        sl_buf_puts(b, "null");
    }
}

static void put_nested(dg_source *s, const sl_type *t, int len, int64_t now,
                       int depth, sl_buf *b)
{
    if (depth > DG_MAX_NEST) {
        sl_buf_puts(b, "null");
        return;
    }
    switch (t->id) {
    case SL_TYPE_ARRAY:
        sl_buf_putc(b, '[');
        for (int i = 0; i < len; i++) {
            if (i)
                sl_buf_putc(b, ',');
            put_nested(s, t->elem, 3, now, depth + 1, b);
        }
        sl_buf_putc(b, ']');
        break;
    case SL_TYPE_MAP: {
        bool str_key = sl_type_is_string(t->elem);
        sl_buf_putc(b, str_key ? '{' : '[');
        for (int i = 0; i < len; i++) {
            if (i)
                sl_buf_putc(b, ',');
            if (str_key) {
                put_scalar_json(s, t->elem, now, b);
                sl_buf_putc(b, ':');
                put_nested(s, t->value, 3, now, depth + 1, b);
            } else {
                sl_buf_putc(b, '[');
                put_nested(s, t->elem, 3, now, depth + 1, b);
                sl_buf_putc(b, ',');
                put_nested(s, t->value, 3, now, depth + 1, b);
                sl_buf_putc(b, ']');
            }
        }
        sl_buf_putc(b, str_key ? '}' : ']');
        break;
    }
    case SL_TYPE_ROW:
        sl_buf_putc(b, '{');
        for (int i = 0; i < t->n_fields; i++) {
            if (i)
                sl_buf_putc(b, ',');
            sl_buf_putc(b, '"');
            sl_buf_puts(b, t->fields[i].name);
            sl_buf_puts(b, "\":");
            put_nested(s, t->fields[i].type, 3, now, depth + 1, b);
        }
        sl_buf_putc(b, '}');
        break;
    default:
        put_scalar_json(s, t, now, b);
    }
}

/* ---- the row loop ------------------------------------------------------- */

static int gen_value(dg_source *s, gen *g, int64_t now, sl_batch *batch,
                     sl_value *v, sl_err *err)
{
    uint64_t *r = &s->rng;
    if (g->null_threshold && next_u64(r) < g->null_threshold) {
        *v = sl_value_null();
        if (g->op >= OP_SEQ_INT)
            g->seq_next++; /* a sequence still advances */
        return SL_OK;
    }
    switch (g->op) {
    case OP_INT:
        v->kind = SL_V_INT;
        v->u.i = g->irange
                     ? (int64_t)((uint64_t)g->imin + next_below(r, g->irange))
                     : (int64_t)next_u64(r);
        return SL_OK;
    case OP_REAL:
        *v = sl_value_real(g->dmin + g->dspan * next_unit(r));
        return SL_OK;
    case OP_DECIMAL: {
        double d = g->dmin + g->dspan * next_unit(r);
        *v = sl_value_real(round(d * g->dscale) / g->dscale);
        return SL_OK;
    }
    case OP_BOOL:
        *v = sl_value_int((int64_t)(next_u64(r) >> 63));
        return SL_OK;
    case OP_STRING:
    case OP_BYTES: {
        int n = g->length;
        if (g->var_len && n > 1)
            n = 1 + (int)next_below(r, (uint64_t)n);
        char *d = sl_arena_alloc(&batch->arena, (size_t)n + 1);
        if (!d)
            return sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
        if (g->op == OP_STRING) {
            fill_hex(r, d, n);
            v->kind = SL_V_TEXT;
        } else {
            for (int i = 0; i < n; i += 8) {
                uint64_t x = next_u64(r);
                memcpy(d + i, &x, (size_t)SL_MIN(8, n - i));
            }
            v->kind = SL_V_BLOB;
        }
        d[n] = '\0';
        v->len = (uint32_t)n;
        v->u.s = d;
        return SL_OK;
    }
    case OP_DATE:
    case OP_TIMESTAMP: {
        int64_t t = now;
        if (g->max_past_ms > 0)
            t -= (int64_t)next_below(r, (uint64_t)g->max_past_ms + 1);
        if (g->op == OP_DATE)
            t = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
        *v = sl_value_int(t);
        return SL_OK;
    }
    case OP_TIME:
        *v = sl_value_int((int64_t)next_below(r, 86400000));
        return SL_OK;
    case OP_NESTED: {
        sl_buf_reset(&s->scratch);
        put_nested(s, g->type, g->length, now, 0, &s->scratch);
        if (s->scratch.rc ||
            sl_batch_set_text(batch, v, s->scratch.data, s->scratch.len))
            return sl_err_set(err, SL_NOMEM, "out of memory");
        return SL_OK;
    }
    case OP_SEQ_INT:
        *v = sl_value_int(g->seq_next++);
        return SL_OK;
    case OP_SEQ_REAL:
        *v = sl_value_real((double)g->seq_next++);
        return SL_OK;
    case OP_SEQ_STRING: {
        char tmp[24];
        int n = sl_snprintf(tmp, sizeof(tmp), "%" PRId64, g->seq_next++);
        if (sl_batch_set_text(batch, v, tmp, (size_t)n))
            return sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
        return SL_OK;
    }
    }
    return SL_OK;
}

static int dg_read(sl_source *src, sl_batch *batch, sl_read_status *status,
                   sl_err *err)
{
    dg_source *s = (dg_source *)src;
    *status = SL_READ_MORE;
    if (s->total >= 0 && s->emitted >= s->total) {
        *status = SL_READ_EOF;
        return SL_OK;
    }
    int64_t now_ns = sl_mono_ns();
    int64_t elapsed = now_ns - s->start_ns;
    int64_t due =
        (int64_t)((__int128)elapsed * s->rows_per_second / 1000000000) + 1;
    if (due - s->emitted > s->rows_per_second) {
        /* after a long pause, catch up by at most one second of rows */
        s->start_ns =
            now_ns - (int64_t)((__int128)(s->emitted - 1 + s->rows_per_second) *
                               1000000000 / s->rows_per_second);
        due = s->emitted + s->rows_per_second;
    }
    int64_t n = due - s->emitted;
    int64_t room = batch->cap_rows - batch->n_rows;
    if (n > room)
        n = room;
    if (s->total >= 0 && n > s->total - s->emitted)
        n = s->total - s->emitted;
    int64_t wall = s->seeded ? 0 : sl_now_ms();
    for (int64_t k = 0; k < n; k++) {
        sl_value *row = sl_batch_append_row(batch);
        int64_t now = s->seeded ? now_ms(s) : wall;
        for (int i = 0; i < s->n_gens; i++) {
            gen *g = &s->gens[i];
            int rc = gen_value(s, g, now, batch, &row[g->col], err);
            if (rc) {
                sl_batch_drop_last(batch);
                return rc;
            }
        }
        batch->pos[batch->n_rows - 1] = (sl_srcpos){0, s->emitted};
        s->emitted++;
    }
    if (s->total >= 0 && s->emitted >= s->total) {
        *status = n > 0 ? SL_READ_MORE : SL_READ_EOF;
        return SL_OK;
    }
    if (s->emitted >= due) {
        /* next row is due at start + emitted / rate */
        int64_t t_ns =
            s->start_ns + (int64_t)(((__int128)s->emitted * 1000000000 +
                                     s->rows_per_second - 1) /
                                    s->rows_per_second);
        s->wakeup_ms = (t_ns + 999999) / 1000000;
        *status = SL_READ_IDLE;
    }
    return SL_OK;
}

static void dg_wait_hint(sl_source *src, int *fd, int64_t *wakeup_ms)
{
    dg_source *s = (dg_source *)src;
    *fd = -1;
    *wakeup_ms = s->wakeup_ms;
}

static double dg_progress(sl_source *src)
{
    dg_source *s = (dg_source *)src;
    if (s->total < 0)
        return -1;
    if (s->total == 0)
        return 1.0;
    return (double)s->emitted / (double)s->total;
}

static void dg_close(sl_source *src)
{
    dg_source *s = (dg_source *)src;
    if (!s)
        return;
    sl_free(s->gens);
    sl_buf_free(&s->scratch);
    sl_free(s);
}

/* Resume after row pos.offset (split 0): sequences continue where they
 * were; random fields draw new values (not those an uninterrupted run
 * would have drawn); the rate restarts now. */
static int dg_seek(sl_source *src, const sl_srcpos *pos, int n_pos, sl_err *err)
{
    dg_source *s = (dg_source *)src;
    int64_t next = -1;
    for (int i = 0; i < n_pos; i++)
        if (pos[i].split == 0 && pos[i].offset + 1 > next)
            next = pos[i].offset + 1;
    if (next < 0)
        return SL_OK;
    if (s->emitted != 0)
        return sl_err_set(err, SL_MISUSE, "datagen: seek after reading");
    if (s->total >= 0 && next > s->total)
        next = s->total;
    for (int i = 0; i < s->n_gens; i++) {
        gen *g = &s->gens[i];
        if (g->op >= OP_SEQ_INT)
            g->seq_next += next;
    }
    s->emitted = next;
    s->start_ns = sl_mono_ns() -
                  (int64_t)((__int128)next * 1000000000 / s->rows_per_second);
    return SL_OK;
}

static const sl_source_ops dg_ops = {
    .read = dg_read,
    .seek = dg_seek,
    .wait_hint = dg_wait_hint,
    .progress = dg_progress,
    .close = dg_close,
};

/* ---- options per field -------------------------------------------------- */

static const char *fkey(char *buf, size_t size, const char *col,
                        const char *opt)
{
    sl_snprintf(buf, size, "fields.%s.%s", col, opt);
    return buf;
}

static int int_opt(sl_options *o, const char *key, int64_t dflt, int64_t lo,
                   int64_t hi, int64_t *out, sl_err *err)
{
    return sl_options_int(o, key, dflt, lo, hi, out, err);
}

static int setup_gen(dg_source *s, gen *g, const char *col, sl_options *o,
                     sl_err *err)
{
    static const char *const kinds[] = {"random", "sequence", NULL};
    char k[256];
    const sl_type *t = g->type;
    int kind;
    double null_rate;
    if (sl_options_enum(o, fkey(k, sizeof(k), col, "kind"), kinds, 0, &kind,
                        err) ||
        sl_options_double(o, fkey(k, sizeof(k), col, "null-rate"), 0, 0, 1,
                          &null_rate, err))
        return err->code;
    g->null_threshold =
        null_rate >= 1.0 ? UINT64_MAX : (uint64_t)(null_rate * 0x1p64);
    bool is_int = sl_type_is_integer(t) || t->id == SL_TYPE_INTERVAL_DAY_TIME ||
                  t->id == SL_TYPE_INTERVAL_YEAR_MONTH;
    if (kind == 1) {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (is_int)
            type_int_range(t, &lo, &hi);
        else if (!sl_type_is_numeric(t) && !sl_type_is_string(t))
            return sl_err_set(err, SL_SQL,
                              "datagen: field '%s' of type %s cannot be a "
                              "sequence (numbers and strings only)",
                              col, sl_type_id_name(t->id));
        const char *ks = fkey(k, sizeof(k), col, "start");
        if (!sl_options_has(o, ks))
            return sl_err_set(err, SL_SQL,
                              "datagen: sequence field '%s' needs "
                              "'fields.%s.start' and 'fields.%s.end'",
                              col, col, col);
        int64_t start, end;
        if (int_opt(o, ks, 0, lo, hi, &start, err))
            return err->code;
        const char *ke = fkey(k, sizeof(k), col, "end");
        if (!sl_options_has(o, ke))
            return sl_err_set(err, SL_SQL,
                              "datagen: sequence field '%s' needs "
                              "'fields.%s.end'",
                              col, col);
        if (int_opt(o, ke, 0, lo, hi, &end, err))
            return err->code;
        if (end < start)
            return sl_err_set(err, SL_SQL,
                              "datagen: field '%s': sequence end %" PRId64
                              " is before start %" PRId64,
                              col, end, start);
        g->seq_next = start;
        g->seq_end = end;
        g->op = is_int                 ? OP_SEQ_INT
                : sl_type_is_string(t) ? OP_SEQ_STRING
                                       : OP_SEQ_REAL;
        return SL_OK;
    }
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        g->op = OP_BOOL;
        return SL_OK;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
    case SL_TYPE_INTERVAL_DAY_TIME:
    case SL_TYPE_INTERVAL_YEAR_MONTH: {
        int64_t lo, hi, mn, mx;
        type_int_range(t, &lo, &hi);
        if (int_opt(o, fkey(k, sizeof(k), col, "min"), lo, lo, hi, &mn, err) ||
            int_opt(o, fkey(k, sizeof(k), col, "max"), hi, lo, hi, &mx, err))
            return err->code;
        if (mx < mn)
            return sl_err_set(err, SL_SQL,
                              "datagen: field '%s': max is below min", col);
        g->op = OP_INT;
        g->imin = mn;
        g->irange = (uint64_t)mx - (uint64_t)mn + 1;
        return SL_OK;
    }
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL: {
        double lo, hi;
        if (t->id == SL_TYPE_FLOAT) {
            lo = FLT_TRUE_MIN, hi = FLT_MAX;
        } else if (t->id == SL_TYPE_DOUBLE) {
            lo = DBL_TRUE_MIN, hi = DBL_MAX;
        } else {
            double lim =
                pow(10.0, t->precision - t->scale) - pow(10.0, -t->scale);
            lo = -lim, hi = lim;
        }
        double mn, mx;
        if (sl_options_double(o, fkey(k, sizeof(k), col, "min"), lo, -DBL_MAX,
                              DBL_MAX, &mn, err) ||
            sl_options_double(o, fkey(k, sizeof(k), col, "max"), hi, -DBL_MAX,
                              DBL_MAX, &mx, err))
            return err->code;
        if (mx < mn)
            return sl_err_set(err, SL_SQL,
                              "datagen: field '%s': max is below min", col);
        g->op = t->id == SL_TYPE_DECIMAL ? OP_DECIMAL : OP_REAL;
        g->dmin = mn;
        g->dspan = mx - mn;
        if (!isfinite(g->dspan))
            g->dspan = DBL_MAX;
        g->dscale = pow(10.0, t->scale);
        return SL_OK;
    }
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY: {
        int64_t len;
        if (int_opt(o, fkey(k, sizeof(k), col, "length"), 100, 0, DG_MAX_LENGTH,
                    &len, err) ||
            sl_options_bool(o, fkey(k, sizeof(k), col, "var-len"), false,
                            &g->var_len, err))
            return err->code;
        if (t->precision > 0 && len > t->precision)
            len = t->precision;
        g->length = (int)len;
        g->op = sl_type_is_string(t) ? OP_STRING : OP_BYTES;
        return SL_OK;
    }
    case SL_TYPE_DATE:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        if (sl_options_duration_ms(o, fkey(k, sizeof(k), col, "max-past"), 0,
                                   &g->max_past_ms, err))
            return err->code;
        g->op = t->id == SL_TYPE_DATE ? OP_DATE : OP_TIMESTAMP;
        return SL_OK;
    case SL_TYPE_TIME:
        g->op = OP_TIME;
        return SL_OK;
    case SL_TYPE_ARRAY:
    case SL_TYPE_MAP:
    case SL_TYPE_ROW: {
        int64_t len;
        if (int_opt(o, fkey(k, sizeof(k), col, "length"), 3, 0, 10000, &len,
                    err))
            return err->code;
        g->length = (int)len;
        g->op = OP_NESTED;
        return SL_OK;
    }
    default:
        return sl_err_set(err, SL_SQL,
                          "datagen: field '%s' has type %s, which datagen "
                          "cannot generate",
                          col, sl_type_id_name(t->id));
    }
    SL_UNUSED(s);
}

static int dg_open_source(const sl_table_info *table, sl_source **out,
                          sl_err *err)
{
    *out = NULL;
    sl_options *o = table->options;
    const sl_schema *schema = table->schema;
    dg_source *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &dg_ops;
    s->wakeup_ms = -1;
    sl_buf_init(&s->scratch, 64u << 20);
    sl_options_mark(o, "connector");
    int64_t rows = -1, seed = 0;
    int rc = sl_options_int(o, "rows-per-second", 10000, 1, (int64_t)1 << 40,
                            &s->rows_per_second, err);
    if (!rc)
        rc = sl_options_int(o, "number-of-rows", -1, 0, INT64_MAX, &rows, err);
    if (!rc) {
        s->seeded = sl_options_has(o, "seed");
        rc = sl_options_int(o, "seed", 0, INT64_MIN, INT64_MAX, &seed, err);
    }
    if (!rc) {
        s->gens = sl_calloc((size_t)(schema->n_cols ? schema->n_cols : 1),
                            sizeof(gen));
        if (!s->gens)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    for (int i = 0; !rc && i < schema->n_cols; i++) {
        if (table->metadata_keys && table->metadata_keys[i]) {
            rc = sl_err_set(err, SL_SQL,
                            "connector 'datagen' offers no metadata (column "
                            "'%s' asks for '%s')",
                            schema->cols[i].name, table->metadata_keys[i]);
            break;
        }
        gen *g = &s->gens[s->n_gens++];
        g->col = i;
        g->type = schema->cols[i].type;
        rc = setup_gen(s, g, schema->cols[i].name, o, err);
    }
    if (!rc)
        rc = sl_options_check_unused(o, "connector 'datagen'", datagen_options,
                                     err);
    if (rc) {
        dg_close(&s->base);
        return rc;
    }
    /* The end: number-of-rows or the shortest sequence, whichever first. */
    s->total = rows;
    for (int i = 0; i < s->n_gens; i++) {
        gen *g = &s->gens[i];
        if (g->op < OP_SEQ_INT)
            continue;
        uint64_t span = (uint64_t)g->seq_end - (uint64_t)g->seq_next + 1;
        int64_t len =
            span == 0 || span > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)span;
        if (s->total < 0 || len < s->total)
            s->total = len;
    }
    s->base.is_bounded = s->total >= 0;
    s->rng = s->seeded
                 ? (uint64_t)seed
                 : (uint64_t)sl_mono_ns() ^ ((uint64_t)sl_now_ms() << 20) ^
                       ((uint64_t)getpid() << 40);
    s->start_ns = sl_mono_ns();
    *out = &s->base;
    return SL_OK;
}

const sl_connector sl_connector_datagen = {
    .version = SL_CONNECTOR_VERSION,
    .name = "datagen",
    .doc = "Generates random or sequential rows at a bounded rate.",
    .options = datagen_options,
    .open_source = dg_open_source,
};
