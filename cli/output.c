/*
 * output.c: how result rows look on the screen and in files.
 *
 * A cli_out receives one result set at a time (begin, rows, end) as plain
 * string arrays and prints it in one of five shapes:
 *   table      bounded results: an aligned table with borders, NULL shown as
 *              configured, a "N rows in set" footer. On a terminal, a result
 *              that keeps running (or carries updates) turns into a live
 *              table redrawn in place with ANSI cursor control, paged to the
 *              terminal height, with a status line (rows, rows/s, watermark).
 *   tableau    append-only printing under a header, one line per change.
 *   changelog  "+I[v1, v2]" lines, as Flink's print sink writes them.
 *   jsonl      one JSON object per row keyed by column name, JSON-typed.
 *   csv        a header line, then RFC 4180 records (CRLF, quoted as needed).
 * Every buffer is bounded: a bounded table is printed in chunks of
 * TABLE_CHUNK_ROWS rows; the live table keeps the last LIVE_MAX_ROWS rows.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define TABLE_CHUNK_ROWS 10000
#define LIVE_MAX_ROWS    10000
#define LIVE_AFTER_MS    1000 /* a result still running after this is live */
#define REDRAW_EVERY_MS  100
#define MAX_CELL_WIDTH   60
#define MAX_COLS         1024

typedef struct row {
    int kind;
    char *vals[]; /* n_cols sanitized strings, NULL for SQL NULL */
} row;

struct cli_out {
    cli_out_conf conf;
    int n_cols;
    char **names;
    char **types;
    int *right; /* right-align (numeric) */
    int *json;  /* 0 string, 1 number, 2 boolean, 3 raw JSON */
    int active; /* between begin and end */
    int64_t n_rows;
    int64_t start_ns;
    /* buffered rows: a bounded table chunk or the live table */
    row **rows;
    int n_buf;
    int cap_buf;
    int live;       /* the live table is on screen */
    int live_lines; /* lines drawn by the last redraw */
    int *widths;    /* live widths only grow, so the table does not jitter */
    int64_t last_draw_ns;
    char watermark[64];
    int tableau_widths_set;
};

int64_t cli_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- text helpers ------------------------------------------------------ */

size_t cli_display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Byte length of the longest prefix of s that is at most width wide. */
static size_t prefix_for_width(const char *s, size_t width)
{
    size_t w = 0, i = 0;
    while (s[i]) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (w == width)
                break;
            w++;
        }
        i++;
    }
    return i;
}

int cli_json_is_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

static int type_is(const char *type, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncasecmp(type, prefix, n))
        return 0;
    return !isalnum((unsigned char)type[n]) && type[n] != '_';
}

static int json_kind(const char *type)
{
    static const char *const nums[] = {
        "TINYINT", "SMALLINT", "INT",  "INTEGER", "BIGINT", "FLOAT",
        "DOUBLE",  "DECIMAL",  "REAL", "NUMERIC", "DEC"};
    static const char *const raw[] = {"ARRAY", "MAP", "ROW", "MULTISET",
                                      "JSON"};
    if (!type)
        return 0;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (type_is(type, nums[i]))
            return 1;
    if (type_is(type, "BOOLEAN") || type_is(type, "BOOL"))
        return 2;
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
        if (type_is(type, raw[i]))
            return 3;
    return 0;
}

/* A copy of v safe for one table cell: control characters made visible. */
static size_t sanitized_len(const char *v)
{
    size_t n = 0;
    for (; *v; v++)
        n += (*v == '\n' || *v == '\r' || *v == '\t') ? 2 : 1;
    return n;
}

static char *sanitize_into(char *dst, const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '\n' || c == '\r' || c == '\t') {
            *dst++ = '\\';
            *dst++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else {
            *dst++ = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    *dst++ = '\0';
    return dst;
}

static row *row_new(int n_cols, int kind, const char *const *vals)
{
    size_t bytes = sizeof(row) + (size_t)n_cols * sizeof(char *);
    for (int i = 0; i < n_cols; i++)
        if (vals[i])
            bytes += sanitized_len(vals[i]) + 1;
    row *r = malloc(bytes);
    if (!r)
        return NULL;
    r->kind = kind;
    char *p = (char *)&r->vals[n_cols];
    for (int i = 0; i < n_cols; i++) {
        if (vals[i]) {
            r->vals[i] = p;
            p = sanitize_into(p, vals[i]);
        } else {
            r->vals[i] = NULL;
        }
    }
    return r;
}

static const char *kind_name(int kind)
{
    static const char *const kinds[] = {"+I", "-U", "+U", "-D"};
    return kinds[kind >= 0 && kind < 4 ? kind : 0];
}

/* ---- lifecycle ---------------------------------------------------------- */

cli_out *cli_out_new(const cli_out_conf *conf)
{
    cli_out *out = calloc(1, sizeof(*out));
    if (!out)
        return NULL;
    out->conf = *conf;
    if (!out->conf.fp)
        out->conf.fp = stdout;
    if (!out->conf.null_text)
        out->conf.null_text = "<NULL>";
    if (out->conf.term_rows < 8)
        out->conf.term_rows = 24;
    if (out->conf.term_cols < 20)
        out->conf.term_cols = 80;
    return out;
}

static void clear_rows(cli_out *out)
{
    for (int i = 0; i < out->n_buf; i++)
        free(out->rows[i]);
    out->n_buf = 0;
}

static void drop_set(cli_out *out)
{
    clear_rows(out);
    for (int i = 0; i < out->n_cols; i++) {
        free(out->names[i]);
        free(out->types[i]);
    }
    free(out->names);
    free(out->types);
    free(out->right);
    free(out->json);
    free(out->widths);
    out->names = out->types = NULL;
    out->right = out->json = out->widths = NULL;
    out->n_cols = 0;
}

void cli_out_free(cli_out *out)
{
    if (!out)
        return;
    drop_set(out);
    free(out->rows);
    free(out);
}

int64_t cli_out_rows(const cli_out *out)
{
    return out ? out->n_rows : 0;
}

static void print_tableau_header(cli_out *out);

int cli_out_begin(cli_out *out, int n_cols, const char *const *names,
                  const char *const *types)
{
    if (out->active)
        cli_out_end(out, -1);
    drop_set(out);
    if (n_cols < 0 || n_cols > MAX_COLS)
        return -1;
    out->names = calloc((size_t)n_cols + 1, sizeof(char *));
    out->types = calloc((size_t)n_cols + 1, sizeof(char *));
    out->right = calloc((size_t)n_cols + 1, sizeof(int));
    out->json = calloc((size_t)n_cols + 1, sizeof(int));
    out->widths = calloc((size_t)n_cols + 1, sizeof(int));
    if (!out->names || !out->types || !out->right || !out->json || !out->widths)
        return -1;
    out->n_cols = n_cols;
    for (int i = 0; i < n_cols; i++) {
        const char *nm = names && names[i] ? names[i] : "";
        const char *ty = types && types[i] ? types[i] : "";
        size_t nl = sanitized_len(nm) + 1;
        out->names[i] = malloc(nl);
        out->types[i] = strdup(ty);
        if (!out->names[i] || !out->types[i])
            return -1;
        sanitize_into(out->names[i], nm);
        out->json[i] = json_kind(ty);
        out->right[i] = out->json[i] == 1;
        out->widths[i] = (int)cli_display_width(out->names[i]);
    }
    out->active = 1;
    out->n_rows = 0;
    out->live = 0;
    out->live_lines = 0;
    out->last_draw_ns = 0;
    out->watermark[0] = '\0';
    out->start_ns = cli_mono_ns();
    FILE *fp = out->conf.fp;
    if (out->conf.format == CLI_FMT_CSV) {
        for (int i = 0; i < n_cols; i++) {
            const char *nm = names && names[i] ? names[i] : "";
            int quote = strpbrk(nm, ",\"\r\n") != NULL || !*nm;
            if (i)
                fputc(',', fp);
            if (quote) {
                fputc('"', fp);
                for (const char *c = nm; *c; c++) {
                    if (*c == '"')
                        fputc('"', fp);
                    fputc(*c, fp);
                }
                fputc('"', fp);
            } else {
                fputs(nm, fp);
            }
        }
        fputs("\r\n", fp);
    } else if (out->conf.format == CLI_FMT_TABLEAU) {
        print_tableau_header(out);
    }
    return 0;
}

/* ---- aligned table --------------------------------------------------------
 */

static const char *cell(const cli_out *out, const row *r, int i)
{
    return r->vals[i] ? r->vals[i] : out->conf.null_text;
}

static void put_pad(FILE *fp, int n)
{
    for (; n > 0; n--)
        fputc(' ', fp);
}

/* Print s in a cell of width w (truncated with "..." when wider). */
static void put_cell(FILE *fp, const char *s, int w, int right)
{
    int sw = (int)cli_display_width(s);
    if (sw > w) {
        size_t keep = prefix_for_width(s, w > 3 ? (size_t)(w - 3) : 0);
        fwrite(s, 1, keep, fp);
        fputs(w > 3 ? "..." : "", fp);
        put_pad(fp, w > 3 ? 0 : w);
        return;
    }
    if (right)
        put_pad(fp, w - sw);
    fputs(s, fp);
    if (!right)
        put_pad(fp, w - sw);
}

static void put_border(FILE *fp, const int *w, int n, int with_op)
{
    fputc('+', fp);
    if (with_op)
        fputs("----+", fp);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < w[i] + 2; j++)
            fputc('-', fp);
        fputc('+', fp);
    }
    fputc('\n', fp);
}

static void put_line(cli_out *out, const int *w, const row *r, int with_op)
{
    FILE *fp = out->conf.fp;
    fputc('|', fp);
    if (with_op)
        fprintf(fp, " %s |", r ? kind_name(r->kind) : "op");
    for (int i = 0; i < out->n_cols; i++) {
        fputc(' ', fp);
        if (r)
            put_cell(fp, cell(out, r, i), w[i], out->right[i]);
        else
            put_cell(fp, out->names[i], w[i], out->right[i]);
        fputs(" |", fp);
    }
    fputc('\n', fp);
}

static int *table_widths(cli_out *out, int first, int cap)
{
    int *w = calloc((size_t)out->n_cols + 1, sizeof(int));
    if (!w)
        return NULL;
    for (int i = 0; i < out->n_cols; i++)
        w[i] = (int)cli_display_width(out->names[i]);
    for (int k = first; k < out->n_buf; k++)
        for (int i = 0; i < out->n_cols; i++) {
            int cw = (int)cli_display_width(cell(out, out->rows[k], i));
            if (cw > w[i])
                w[i] = cw;
        }
    if (cap > 0)
        for (int i = 0; i < out->n_cols; i++)
            if (w[i] > cap)
                w[i] = cap;
    return w;
}

static void print_table_chunk(cli_out *out)
{
    if (out->n_cols == 0)
        return;
    int *w = table_widths(out, 0, 0);
    if (!w)
        return;
    FILE *fp = out->conf.fp;
    put_border(fp, w, out->n_cols, 0);
    put_line(out, w, NULL, 0);
    put_border(fp, w, out->n_cols, 0);
    for (int k = 0; k < out->n_buf; k++)
        put_line(out, w, out->rows[k], 0);
    put_border(fp, w, out->n_cols, 0);
    free(w);
    clear_rows(out);
}

static int buffer_row(cli_out *out, row *r)
{
    if (out->n_buf == out->cap_buf) {
        int cap = out->cap_buf ? out->cap_buf * 2 : 64;
        row **rows = realloc(out->rows, (size_t)cap * sizeof(row *));
        if (!rows) {
            free(r);
            return -1;
        }
        out->rows = rows;
        out->cap_buf = cap;
    }
    out->rows[out->n_buf++] = r;
    return 0;
}

/* ---- live table ----------------------------------------------------------
 * The rows on screen are the changelog materialized: +I and +U append, -U
 * and -D remove the newest equal row. */

static int row_equal(const cli_out *out, const row *a, const row *b)
{
    for (int i = 0; i < out->n_cols; i++) {
        if (!a->vals[i] != !b->vals[i])
            return 0;
        if (a->vals[i] && strcmp(a->vals[i], b->vals[i]))
            return 0;
    }
    return 1;
}

static void live_apply(cli_out *out, row *r)
{
    if (r->kind == SLUICE_ROW_UPDATE_BEFORE || r->kind == SLUICE_ROW_DELETE) {
        for (int k = out->n_buf - 1; k >= 0; k--) {
            if (row_equal(out, out->rows[k], r)) {
                free(out->rows[k]);
                memmove(&out->rows[k], &out->rows[k + 1],
                        (size_t)(out->n_buf - k - 1) * sizeof(row *));
                out->n_buf--;
                break;
            }
        }
        free(r);
        return;
    }
    if (out->n_buf == LIVE_MAX_ROWS) {
        free(out->rows[0]);
        memmove(&out->rows[0], &out->rows[1],
                (size_t)(out->n_buf - 1) * sizeof(row *));
        out->n_buf--;
    }
    buffer_row(out, r);
}

static void format_rate(char *buf, size_t size, double rate)
{
    if (rate >= 1e6)
        snprintf(buf, size, "%.1fM", rate / 1e6);
    else if (rate >= 1e4)
        snprintf(buf, size, "%.1fk", rate / 1e3);
    else
        snprintf(buf, size, "%.0f", rate);
}

static void live_draw(cli_out *out, int final)
{
    FILE *fp = out->conf.fp;
    int avail = out->conf.term_rows - 5; /* borders, header, status */
    if (avail < 1)
        avail = 1;
    int first = out->n_buf > avail ? out->n_buf - avail : 0;
    int cap = MAX_CELL_WIDTH;
    /* keep the table inside the terminal width */
    int budget = out->conf.term_cols - 1 - (out->n_cols * 3 + 1);
    if (out->n_cols > 0 && budget / out->n_cols < cap)
        cap = budget / out->n_cols > 3 ? budget / out->n_cols : 4;
    int *w = table_widths(out, first, cap);
    if (!w)
        return;
    for (int i = 0; i < out->n_cols; i++) {
        if (out->widths[i] < w[i])
            out->widths[i] = w[i] < cap ? w[i] : cap;
        w[i] = out->widths[i];
    }
    if (out->live_lines > 0)
        fprintf(fp, "\r\x1b[%dA\x1b[J", out->live_lines);
    int lines = 0;
    put_border(fp, w, out->n_cols, 0);
    put_line(out, w, NULL, 0);
    put_border(fp, w, out->n_cols, 0);
    lines += 3;
    for (int k = first; k < out->n_buf; k++, lines++)
        put_line(out, w, out->rows[k], 0);
    put_border(fp, w, out->n_cols, 0);
    lines++;
    double secs = (double)(cli_mono_ns() - out->start_ns) / 1e9;
    char rate[32];
    format_rate(rate, sizeof(rate), secs > 0 ? (double)out->n_rows / secs : 0);
    char status[256];
    snprintf(status, sizeof(status),
             "%s %d of %d rows | changes: %lld | %s rows/s | watermark: %s%s",
             final ? "Done." : "Live:", out->n_buf - first, out->n_buf,
             (long long)out->n_rows, rate,
             out->watermark[0] ? out->watermark : "-",
             final ? "" : " | Ctrl-C stops");
    status[out->conf.term_cols - 1 < (int)sizeof(status)
               ? out->conf.term_cols - 1
               : (int)sizeof(status) - 1] = '\0';
    fprintf(fp, "%s\n", status);
    lines++;
    out->live_lines = lines;
    out->last_draw_ns = cli_mono_ns();
    fflush(fp);
    free(w);
}

static void go_live(cli_out *out)
{
    out->live = 1;
    /* the buffered rows so far are a changelog prefix: materialize them */
    int n = out->n_buf;
    row **old = malloc((size_t)(n ? n : 1) * sizeof(row *));
    if (!old)
        return;
    memcpy(old, out->rows, (size_t)n * sizeof(row *));
    out->n_buf = 0;
    for (int k = 0; k < n; k++)
        live_apply(out, old[k]);
    free(old);
    live_draw(out, 0);
}

static int live_allowed(const cli_out *out)
{
    return out->conf.is_tty && out->conf.format == CLI_FMT_TABLE;
}

/* ---- tableau ---------------------------------------------------------- */

static int type_width(const char *type, int json)
{
    if (json == 2)
        return 5;
    if (type_is(type, "TINYINT"))
        return 4;
    if (type_is(type, "SMALLINT"))
        return 6;
    if (type_is(type, "INT") || type_is(type, "INTEGER"))
        return 11;
    if (type_is(type, "DATE"))
        return 10;
    if (type_is(type, "TIME"))
        return 12;
    if (type_is(type, "TIMESTAMP") || type_is(type, "TIMESTAMP_LTZ"))
        return 23;
    return 20;
}

static void print_tableau_header(cli_out *out)
{
    for (int i = 0; i < out->n_cols; i++) {
        int tw = type_width(out->types[i], out->json[i]);
        if (out->widths[i] < tw)
            out->widths[i] = tw;
        if (out->widths[i] > MAX_CELL_WIDTH)
            out->widths[i] = MAX_CELL_WIDTH;
    }
    FILE *fp = out->conf.fp;
    put_border(fp, out->widths, out->n_cols, 1);
    put_line(out, out->widths, NULL, 1);
    put_border(fp, out->widths, out->n_cols, 1);
    fflush(fp);
}

/* ---- json, csv, changelog -------------------------------------------------
 */

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
            fputs("\\\"", fp);
            break;
        case '\\':
            fputs("\\\\", fp);
            break;
        case '\n':
            fputs("\\n", fp);
            break;
        case '\r':
            fputs("\\r", fp);
            break;
        case '\t':
            fputs("\\t", fp);
            break;
        default:
            if (c < 0x20)
                fprintf(fp, "\\u%04x", c);
            else
                fputc((char)c, fp);
        }
    }
    fputc('"', fp);
}

static void print_jsonl(cli_out *out, int kind, const char *const *vals)
{
    FILE *fp = out->conf.fp;
    fputc('{', fp);
    for (int i = 0; i < out->n_cols; i++) {
        if (i)
            fputs(", ", fp);
        json_string(fp, out->names[i]);
        fputs(": ", fp);
        const char *v = vals[i];
        if (!v) {
            fputs("null", fp);
        } else if (out->json[i] == 1 && cli_json_is_number(v)) {
            fputs(v, fp);
        } else if (out->json[i] == 2 &&
                   (!strcasecmp(v, "true") || !strcasecmp(v, "false"))) {
            fputs(strcasecmp(v, "true") ? "false" : "true", fp);
        } else if (out->json[i] == 3 && (v[0] == '[' || v[0] == '{')) {
            fputs(v, fp);
        } else {
            json_string(fp, v);
        }
    }
    if (kind != SLUICE_ROW_INSERT)
        fprintf(fp, "%s\"_kind\": \"%s\"", out->n_cols ? ", " : "",
                kind_name(kind));
    fputs("}\n", fp);
}

static void print_csv(cli_out *out, const char *const *vals)
{
    FILE *fp = out->conf.fp;
    for (int i = 0; i < out->n_cols; i++) {
        if (i)
            fputc(',', fp);
        const char *v = vals[i];
        if (!v)
            continue; /* NULL: an empty, unquoted field */
        if (*v && !strpbrk(v, ",\"\r\n")) {
            fputs(v, fp);
            continue;
        }
        fputc('"', fp);
        for (; *v; v++) {
            if (*v == '"')
                fputc('"', fp);
            fputc(*v, fp);
        }
        fputc('"', fp);
    }
    fputs("\r\n", fp);
}

static void print_changelog(cli_out *out, int kind, const char *const *vals)
{
    FILE *fp = out->conf.fp;
    fprintf(fp, "%s[", kind_name(kind));
    for (int i = 0; i < out->n_cols; i++)
        fprintf(fp, "%s%s", i ? ", " : "", vals[i] ? vals[i] : "NULL");
    fputs("]\n", fp);
}

/* ---- rows --------------------------------------------------------------- */

int cli_out_row(cli_out *out, int kind, const char *const *vals)
{
    if (!out->active)
        return -1;
    out->n_rows++;
    switch (out->conf.format) {
    case CLI_FMT_JSONL:
        print_jsonl(out, kind, vals);
        return 0;
    case CLI_FMT_CSV:
        print_csv(out, vals);
        return 0;
    case CLI_FMT_CHANGELOG:
        print_changelog(out, kind, vals);
        if (out->conf.is_tty)
            fflush(out->conf.fp);
        return 0;
    case CLI_FMT_TABLEAU: {
        row *r = row_new(out->n_cols, kind, vals);
        if (!r)
            return -1;
        put_line(out, out->widths, r, 1);
        free(r);
        if (out->conf.is_tty)
            fflush(out->conf.fp);
        return 0;
    }
    case CLI_FMT_TABLE:
        break;
    }
    row *r = row_new(out->n_cols, kind, vals);
    if (!r)
        return -1;
    if (out->live) {
        live_apply(out, r);
        if (cli_mono_ns() - out->last_draw_ns > REDRAW_EVERY_MS * 1000000LL)
            live_draw(out, 0);
        return 0;
    }
    if (buffer_row(out, r))
        return -1;
    if (live_allowed(out) &&
        (kind != SLUICE_ROW_INSERT ||
         cli_mono_ns() - out->start_ns > LIVE_AFTER_MS * 1000000LL)) {
        go_live(out);
        return 0;
    }
    if (out->n_buf >= TABLE_CHUNK_ROWS)
        print_table_chunk(out);
    return 0;
}

void cli_out_tick(cli_out *out, const char *watermark)
{
    if (!out || !out->active)
        return;
    if (watermark)
        snprintf(out->watermark, sizeof(out->watermark), "%s", watermark);
    if (!out->live && live_allowed(out) &&
        cli_mono_ns() - out->start_ns > LIVE_AFTER_MS * 1000000LL) {
        go_live(out);
        return;
    }
    if (out->live &&
        cli_mono_ns() - out->last_draw_ns > REDRAW_EVERY_MS * 1000000LL)
        live_draw(out, 0);
}

void cli_out_end(cli_out *out, double elapsed_ms)
{
    if (!out || !out->active)
        return;
    FILE *fp = out->conf.fp;
    out->active = 0;
    if (out->conf.format == CLI_FMT_TABLE) {
        if (out->live)
            live_draw(out, 1);
        else if (out->n_buf > 0)
            print_table_chunk(out);
        if (out->conf.footer) {
            if (out->live)
                fprintf(fp, "%lld change%s received", (long long)out->n_rows,
                        out->n_rows == 1 ? "" : "s");
            else if (out->n_rows == 0)
                fputs("Empty set", fp);
            else
                fprintf(fp, "%lld row%s in set", (long long)out->n_rows,
                        out->n_rows == 1 ? "" : "s");
            if (out->conf.timing && elapsed_ms >= 0)
                fprintf(fp, " (%.3f sec)", elapsed_ms / 1000.0);
            fputc('\n', fp);
        }
    } else if (out->conf.format == CLI_FMT_TABLEAU) {
        put_border(fp, out->widths, out->n_cols, 1);
        if (out->conf.footer) {
            fprintf(fp, "Received a total of %lld row%s",
                    (long long)out->n_rows, out->n_rows == 1 ? "" : "s");
            if (out->conf.timing && elapsed_ms >= 0)
                fprintf(fp, " (%.3f sec)", elapsed_ms / 1000.0);
            fputc('\n', fp);
        }
    } else if (out->conf.timing && elapsed_ms >= 0 && out->conf.footer) {
        fprintf(stderr, "%lld rows (%.3f sec)\n", (long long)out->n_rows,
                elapsed_ms / 1000.0);
    }
    clear_rows(out);
    fflush(fp);
}

/* ---- progress line ------------------------------------------------------ */

void cli_progress_init(cli_progress *p, FILE *fp, int enabled)
{
    memset(p, 0, sizeof(*p));
    p->fp = fp;
    p->enabled = enabled;
    p->start_ns = cli_mono_ns();
}

void cli_progress_update(cli_progress *p, int64_t rows, int64_t total,
                         int force)
{
    if (!p || !p->enabled)
        return;
    int64_t now = cli_mono_ns();
    if (!force && now - p->last_draw_ns < 200 * 1000000LL)
        return;
    p->last_draw_ns = now;
    double secs = (double)(now - p->start_ns) / 1e9;
    char rate[32];
    format_rate(rate, sizeof(rate), secs > 0 ? (double)rows / secs : 0);
    fprintf(p->fp, "\r\x1b[Krows: %lld  %s rows/s", (long long)rows, rate);
    if (total > 0)
        fprintf(p->fp, "  %d%%",
                (int)(rows >= total ? 100 : rows * 100 / total));
    fprintf(p->fp, "  %.1fs", secs);
    fflush(p->fp);
    p->drawn = 1;
}

void cli_progress_done(cli_progress *p)
{
    if (!p || !p->enabled || !p->drawn)
        return;
    fputs("\r\x1b[K", p->fp);
    fflush(p->fp);
    p->drawn = 0;
}
