/*
 * filesystem.c: the 'filesystem' connector: a bounded source reading a file
 * (or every file of a directory, in name order) line by line through a
 * record format, and a sink writing one encoded row per line.
 *
 * Source: a bounded read buffer (64 KiB, growing up to
 * 'source.max-line-length' for long lines) is scanned for record ends (a
 * newline; for csv, a newline outside quotes), and each record is decoded
 * straight into the batch. Rows carry (split = file index, offset = line
 * number of the record's first line). A record that fails to decode fails
 * the job with "<file>:<line>: <reason>", or, with
 * '<format>.ignore-parse-errors', is skipped and counted
 * (sl_filesystem_skipped). Blank lines are skipped.
 *
 * Sink: rows are encoded into a buffer written out at the end of every
 * write() call (so acked() is the last sequence written), flushed by
 * flush() and fsynced on close. 'path' names the output file, or a
 * directory in which a part file is created. Only insert rows are accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filesystem.h"
#include "format_int.h"

#define FS_READ_CHUNK (64 * 1024)
#define FS_MAX_FILES  100000
#define FS_WRITE_HIGH (1 << 20)

static const sl_option_def fs_options[] = {
    {"path", "string", NULL,
     "File or directory to read (every regular file not starting with '.' "
     "or '_', in name order) or to write (a file; in a directory, a part "
     "file is created)."},
    {"format", "enum", NULL, "Record format: 'json' or 'csv' (required)."},
    {"source.max-line-length", "bytes", "16mb",
     "Longest record the source accepts; a longer one fails the job."},
    {"sink.append", "bool", "false",
     "Sluice extension: append to an existing output file instead of "
     "truncating it (set automatically for a job resuming from a "
     "checkpoint)."},
    {NULL, NULL, NULL, NULL},
};

/* ---- shared setup ------------------------------------------------------- */

typedef struct fs_common {
    char *table_name;
    const sl_format *fmt;
    sl_arena arena; /* fmt_schema, col_map, combined option defs */
    sl_schema *fmt_schema;
    int *col_map;
    char prefix[32];
    const char *path;
} fs_common;

/* Check options common to source and sink, resolve the format and map the
 * physical columns. */
static int common_open(fs_common *c, const sl_table_info *table, sl_err *err)
{
    sl_options *o = table->options;
    const char *fmt_name;
    sl_arena_init(&c->arena, 4096, 0);
    sl_options_mark(o, "connector");
    c->table_name = sl_strdup(table->name ? table->name : "?");
    if (!c->table_name)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (sl_options_required(o, "path", "connector 'filesystem'", &c->path,
                            err) ||
        sl_options_required(o, "format", "connector 'filesystem'", &fmt_name,
                            err))
        return err->code;
    c->fmt = sl_format_find(fmt_name);
    if (!c->fmt ||
        (!sl_str_ieq(fmt_name, "json") && !sl_str_ieq(fmt_name, "csv")))
        return sl_err_set(err, SL_SQL,
                          "connector 'filesystem': unsupported format '%s' "
                          "(supported: 'json', 'csv')",
                          fmt_name);
    sl_snprintf(c->prefix, sizeof(c->prefix), "%s.", c->fmt->name);
    const sl_schema *s = table->schema;
    const char **names =
        sl_arena_alloc(&c->arena, sizeof(char *) * (size_t)(s->n_cols + 1));
    const sl_type **types =
        sl_arena_alloc(&c->arena, sizeof(sl_type *) * (size_t)(s->n_cols + 1));
    c->col_map =
        sl_arena_alloc(&c->arena, sizeof(int) * (size_t)(s->n_cols + 1));
    if (!names || !types || !c->col_map)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < s->n_cols; i++) {
        if (table->metadata_keys && table->metadata_keys[i])
            return sl_err_set(err, SL_SQL,
                              "connector 'filesystem' offers no metadata "
                              "(column '%s' asks for '%s')",
                              s->cols[i].name, table->metadata_keys[i]);
        names[n] = s->cols[i].name;
        types[n] = s->cols[i].type;
        c->col_map[n++] = i;
    }
    c->fmt_schema = sl_schema_new(&c->arena, n, names, types);
    if (!c->fmt_schema)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    return SL_OK;
}

/* After the format has read its options: reject leftovers, with hints from
 * both the connector's and the format's option tables. */
static int common_check(fs_common *c, sl_options *o, sl_err *err)
{
    int n = 0, m = 0;
    while (fs_options[n].key)
        n++;
    while (c->fmt->options && c->fmt->options[m].key)
        m++;
    sl_option_def *defs =
        sl_arena_alloc(&c->arena, sizeof(*defs) * (size_t)(n + m + 1));
    if (!defs)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    memcpy(defs, fs_options, sizeof(*defs) * (size_t)n);
    if (m)
        memcpy(defs + n, c->fmt->options, sizeof(*defs) * (size_t)m);
    defs[n + m] = (sl_option_def){NULL, NULL, NULL, NULL};
    return sl_options_check_unused(o, "connector 'filesystem'", defs, err);
}

static void common_free(fs_common *c)
{
    sl_free(c->table_name);
    sl_arena_free(&c->arena);
}

/* ---- source ------------------------------------------------------------- */

typedef struct fs_source {
    sl_source base;
    fs_common c;
    sl_decoder *dec;
    bool is_csv;
    bool ignore_errors;
    int64_t n_skipped;
    char **files;
    int n_files;
    int64_t total_bytes;
    int64_t done_bytes; /* of finished files */
    int cur;            /* index of the open file */
    int fd;
    char *buf;
    size_t cap, start, end;
    size_t max_line;
    bool eof;
    int64_t line; /* lines consumed in the current file */
    int64_t file_consumed;
    int64_t skip_line; /* after seek: skip records of file cur up to it */
} fs_source;

static const sl_source_ops fs_source_ops;

int64_t sl_filesystem_skipped(const sl_source *src)
{
    if (!src || src->ops != &fs_source_ops)
        return -1;
    return ((const fs_source *)src)->n_skipped;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(fs_source *s, sl_err *err)
{
    const char *path = s->c.path;
    struct stat st;
    if (stat(path, &st))
        return sl_err_set(err, SL_IO,
                          "connector 'filesystem': cannot read "
                          "'%s': %s",
                          path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        s->files = sl_calloc(1, sizeof(char *));
        if (!s->files || !(s->files[0] = sl_strdup(path)))
            return sl_err_set(err, SL_NOMEM, "out of memory");
        s->n_files = 1;
        s->total_bytes = st.st_size;
        return SL_OK;
    }
    DIR *dir = opendir(path);
    if (!dir)
        return sl_err_set(err, SL_IO,
                          "connector 'filesystem': cannot list "
                          "'%s': %s",
                          path, strerror(errno));
    int cap = 0;
    struct dirent *de;
    int rc = SL_OK;
    size_t plen = strlen(path);
    bool slash = plen && path[plen - 1] == '/';
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' || de->d_name[0] == '_')
            continue;
        char *full = sl_asprintf("%s%s%s", path, slash ? "" : "/", de->d_name);
        if (!full) {
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
            break;
        }
        if (stat(full, &st) || !S_ISREG(st.st_mode)) {
            sl_free(full);
            continue;
        }
        if (s->n_files == FS_MAX_FILES) {
            sl_free(full);
            rc = sl_err_set(err, SL_LIMIT,
                            "connector 'filesystem': more "
                            "than %d files in '%s'",
                            FS_MAX_FILES, path);
            break;
        }
        if (s->n_files == cap) {
            cap = cap ? cap * 2 : 16;
            char **nf = sl_realloc(s->files, sizeof(char *) * (size_t)cap);
            if (!nf) {
                sl_free(full);
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
                break;
            }
            s->files = nf;
        }
        s->files[s->n_files++] = full;
        s->total_bytes += st.st_size;
    }
    closedir(dir);
    if (rc == SL_OK && s->n_files > 1)
        qsort(s->files, (size_t)s->n_files, sizeof(char *), cmp_str);
    return rc;
}

static int open_next(fs_source *s, sl_err *err)
{
    const char *f = s->files[s->cur];
    s->fd = open(f, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return sl_err_set(err, SL_IO, "%s: cannot open: %s", f,
                          strerror(errno));
    s->start = s->end = 0;
    s->eof = false;
    s->line = 0;
    s->file_consumed = 0;
    return SL_OK;
}

static void close_current(fs_source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->skip_line = 0;
    s->done_bytes += s->file_consumed;
    s->cur++;
}

/* Make room and read more of the current file. */
static int fill(fs_source *s, sl_err *err)
{
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    if (s->end == s->cap) {
        if (s->cap >= s->max_line + 1)
            return sl_err_set(err, SL_LIMIT,
                              "%s:%" PRId64 ": record longer than %zu bytes "
                              "(raise 'source.max-line-length')",
                              s->files[s->cur], s->line + 1, s->max_line);
        size_t ncap = SL_MIN(s->cap * 2, s->max_line + 1);
        char *nb = sl_realloc(s->buf, ncap);
        if (!nb)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        s->buf = nb;
        s->cap = ncap;
    }
    ssize_t n;
    do {
        n = read(s->fd, s->buf + s->end, s->cap - s->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return sl_err_set(err, SL_IO, "%s: read error: %s", s->files[s->cur],
                          strerror(errno));
    if (n == 0)
        s->eof = true;
    s->end += (size_t)n;
    return SL_OK;
}

static bool is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

static int fs_read(sl_source *src, sl_batch *batch, sl_read_status *status,
                   sl_err *err)
{
    fs_source *s = (fs_source *)src;
    int first_row = batch->n_rows;
    *status = SL_READ_MORE;
    while (!sl_batch_is_full(batch)) {
        if (s->fd < 0) {
            if (s->cur >= s->n_files) {
                /* report the end on a call that added nothing */
                if (batch->n_rows == first_row)
                    *status = SL_READ_EOF;
                return SL_OK;
            }
            int rc = open_next(s, err);
            if (rc)
                return rc;
        }
        const char *rec = s->buf + s->start;
        size_t avail = s->end - s->start, rec_len = 0, consumed = 0;
        int nl = 0;
        bool found;
        if (s->is_csv) {
            found = sl_csv_record_end(s->dec, rec, avail, &consumed, &nl);
            rec_len = consumed;
        } else {
            const char *e = memchr(rec, '\n', avail);
            found = e != NULL;
            if (found) {
                rec_len = (size_t)(e - rec);
                consumed = rec_len + 1;
            }
        }
        if (found && rec_len > s->max_line)
            return sl_err_set(err, SL_LIMIT,
                              "%s:%" PRId64 ": record longer than %zu bytes "
                              "(raise 'source.max-line-length')",
                              s->files[s->cur], s->line + 1, s->max_line);
        if (!found) {
            if (!s->eof) {
                int rc = fill(s, err);
                if (rc)
                    return rc;
                continue;
            }
            if (avail == 0) {
                close_current(s);
                continue;
            }
            rec_len = consumed = avail; /* last record without newline */
        }
        int64_t line = s->line + 1;
        s->line += 1 + nl;
        s->start += consumed;
        s->file_consumed += (int64_t)consumed;
        if (line <= s->skip_line)
            continue; /* before the checkpoint's position */
        if (rec_len && rec[rec_len - 1] == '\n')
            rec_len--;
        if (rec_len && rec[rec_len - 1] == '\r')
            rec_len--;
        if (is_blank(rec, rec_len))
            continue;
        sl_value *row = sl_batch_append_row(batch);
        batch->pos[batch->n_rows - 1] = (sl_srcpos){s->cur, line};
        sl_err derr;
        sl_err_clear(&derr);
        int rc = s->dec->decode(s->dec, rec, rec_len, batch, row, &derr);
        if (rc == SL_OK)
            continue;
        sl_batch_drop_last(batch);
        if (rc == SL_NOTFOUND)
            continue;
        if (rc == SL_ERROR && s->ignore_errors) {
            s->n_skipped++;
            continue;
        }
        return sl_err_set(err, rc, "%s:%" PRId64 ": %s", s->files[s->cur], line,
                          derr.msg);
    }
    return SL_OK;
}

static double fs_progress(sl_source *src)
{
    fs_source *s = (fs_source *)src;
    if (s->cur >= s->n_files)
        return 1.0;
    if (s->total_bytes <= 0)
        return 0.0;
    double p =
        (double)(s->done_bytes + s->file_consumed) / (double)s->total_bytes;
    return p > 1.0 ? 1.0 : p;
}

static void fs_source_close(sl_source *src)
{
    fs_source *s = (fs_source *)src;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->dec)
        s->dec->close(s->dec);
    for (int i = 0; i < s->n_files; i++)
        sl_free(s->files[i]);
    sl_free(s->files);
    sl_free(s->buf);
    common_free(&s->c);
    sl_free(s);
}

/* Resume after a checkpoint: files are read in order, so the highest split
 * recorded is the file in progress and earlier ones are done; its records
 * up to the recorded line are skipped (decoded no more). Assumes the same
 * file list as when the checkpoint was taken. */
static int fs_seek(sl_source *src, const sl_srcpos *pos, int n_pos, sl_err *err)
{
    fs_source *s = (fs_source *)src;
    int split = -1;
    int64_t line = 0;
    for (int i = 0; i < n_pos; i++) {
        if (pos[i].split > split) {
            split = pos[i].split;
            line = pos[i].offset;
        }
    }
    if (split < 0)
        return SL_OK;
    if (s->fd >= 0 || s->cur != 0)
        return sl_err_set(err, SL_MISUSE, "filesystem: seek after reading");
    for (int i = 0; i < split && i < s->n_files; i++) {
        struct stat st;
        if (!stat(s->files[i], &st))
            s->done_bytes += st.st_size;
    }
    s->cur = split < s->n_files ? split : s->n_files;
    s->skip_line = line;
    return SL_OK;
}

static const sl_source_ops fs_source_ops = {
    .read = fs_read,
    .seek = fs_seek,
    .progress = fs_progress,
    .close = fs_source_close,
};

static int fs_open_source(const sl_table_info *table, sl_source **out,
                          sl_err *err)
{
    *out = NULL;
    fs_source *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &fs_source_ops;
    s->base.is_bounded = true;
    s->fd = -1;
    sl_options *o = table->options;
    int64_t max_line;
    int rc = common_open(&s->c, table, err);
    sl_options_mark(o, "sink.append"); /* a sink option: harmless here */
    if (!rc)
        rc = sl_options_bytes(o, "source.max-line-length", 16 << 20, &max_line,
                              err);
    if (!rc && (max_line < 1 || max_line > ((int64_t)1 << 31)))
        rc = sl_err_set(err, SL_SQL,
                        "option 'source.max-line-length' must "
                        "be between 1 byte and 2 gb");
    if (!rc) {
        s->max_line = (size_t)max_line;
        sl_format_info info = {s->c.fmt_schema, s->c.col_map, o, s->c.prefix};
        s->is_csv = sl_str_ieq(s->c.fmt->name, "csv");
        rc = s->c.fmt->open_decoder(&info, &s->dec, err);
    }
    if (!rc)
        rc = sl_format_ignore_errors(o, s->c.prefix, &s->ignore_errors, err);
    if (!rc)
        rc = common_check(&s->c, o, err);
    if (!rc)
        rc = list_files(s, err);
    if (!rc) {
        s->cap = SL_MIN((size_t)FS_READ_CHUNK, s->max_line + 1);
        s->buf = sl_malloc(s->cap);
        if (!s->buf)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    if (rc) {
        fs_source_close(&s->base);
        return rc ? rc : SL_ERROR;
    }
    *out = &s->base;
    return SL_OK;
}

/* ---- sink --------------------------------------------------------------- */

typedef struct fs_sink {
    sl_sink base;
    fs_common c;
    sl_encoder *enc;
    char *file;
    int fd;
    sl_buf out;
    uint64_t last_seq;
    bool append;
} fs_sink;

static int write_all(fs_sink *s, sl_err *err)
{
    size_t off = 0;
    while (off < s->out.len) {
        ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl_err_set(err, SL_IO, "%s: write error: %s", s->file,
                              strerror(errno));
        off += (size_t)n;
    }
    sl_buf_reset(&s->out);
    return SL_OK;
}

static const char *const kind_names[] = {"+I", "-U", "+U", "-D"};

static int fs_write(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                    sl_err *err)
{
    fs_sink *s = (fs_sink *)sink;
    for (int r = 0; r < batch->n_rows; r++) {
        if (batch->kinds[r] != SLUICE_ROW_INSERT)
            return sl_err_set(
                err, SL_RUNTIME,
                "filesystem sink for table '%s' accepts only inserts (+I), "
                "got a %s row: the query produces an updating result",
                s->c.table_name,
                batch->kinds[r] < 4 ? kind_names[batch->kinds[r]] : "?");
        int rc = s->enc->encode(s->enc, batch, r, &s->out, err);
        if (rc)
            return rc;
        sl_buf_putc(&s->out, '\n');
        if (s->out.rc)
            return sl_err_set(err, s->out.rc, "out of memory");
        if (s->out.len >= FS_WRITE_HIGH && write_all(s, err))
            return err->code;
    }
    if (write_all(s, err))
        return err->code;
    s->last_seq = seq;
    return SL_OK;
}

static uint64_t fs_acked(sl_sink *sink)
{
    return ((fs_sink *)sink)->last_seq;
}

static int fs_flush(sl_sink *sink, int timeout_ms, sl_err *err)
{
    SL_UNUSED(timeout_ms);
    return write_all((fs_sink *)sink, err);
}

static void fs_sink_close(sl_sink *sink)
{
    fs_sink *s = (fs_sink *)sink;
    if (!s)
        return;
    if (s->fd >= 0) {
        sl_err ignored;
        sl_err_clear(&ignored);
        write_all(s, &ignored);
        fsync(s->fd);
        close(s->fd);
    }
    if (s->enc)
        s->enc->close(s->enc);
    sl_buf_free(&s->out);
    sl_free(s->file);
    common_free(&s->c);
    sl_free(s);
}

static const sl_sink_ops fs_sink_ops = {
    .write = fs_write,
    .acked = fs_acked,
    .flush = fs_flush,
    .close = fs_sink_close,
};

static int open_output(fs_sink *s, sl_err *err)
{
    const char *path = s->c.path;
    struct stat st;
    size_t plen = strlen(path);
    bool want_dir = plen && path[plen - 1] == '/';
    if (want_dir && stat(path, &st) && errno == ENOENT && mkdir(path, 0755) &&
        errno != EEXIST)
        return sl_err_set(err, SL_IO, "%s: cannot create directory: %s", path,
                          strerror(errno));
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
        uint64_t tag = (uint64_t)sl_now_ms() * 1000003u ^
                       (uint64_t)sl_mono_ns() ^ ((uint64_t)getpid() << 32);
        s->file = sl_asprintf("%s%spart-%016" PRIx64 "-0.%s", path,
                              want_dir ? "" : "/", tag, s->c.fmt->name);
    } else {
        s->file = sl_strdup(path);
    }
    if (!s->file)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->fd = open(s->file,
                 O_CREAT | O_CLOEXEC |
                     (s->append ? O_RDWR | O_APPEND : O_WRONLY | O_TRUNC),
                 0644);
    if (s->fd < 0)
        return sl_err_set(err, SL_IO, "%s: cannot create: %s", s->file,
                          strerror(errno));
    /* appending after a crash: end a torn last line first */
    char last = '\n';
    off_t size = s->append ? lseek(s->fd, 0, SEEK_END) : 0;
    if (size > 0 && pread(s->fd, &last, 1, size - 1) == 1 && last != '\n' &&
        write(s->fd, "\n", 1) != 1)
        return sl_err_set(err, SL_IO, "%s: write error: %s", s->file,
                          strerror(errno));
    return SL_OK;
}

static int fs_open_sink(const sl_table_info *table, sl_sink **out, sl_err *err)
{
    *out = NULL;
    fs_sink *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &fs_sink_ops;
    s->fd = -1;
    sl_buf_init(&s->out, (size_t)1 << 31);
    sl_options *o = table->options;
    int64_t max_line;
    int rc = common_open(&s->c, table, err);
    if (!rc) /* a source option; harmless on a sink table */
        rc = sl_options_bytes(o, "source.max-line-length", 16 << 20, &max_line,
                              err);
    if (!rc) {
        sl_format_info info = {s->c.fmt_schema, s->c.col_map, o, s->c.prefix};
        rc = s->c.fmt->open_encoder(&info, &s->enc, err);
    }
    if (!rc) {
        bool ignored;
        rc = sl_format_ignore_errors(o, s->c.prefix, &ignored, err);
    }
    if (!rc)
        rc = sl_options_bool(o, "sink.append", false, &s->append, err);
    if (!rc)
        rc = common_check(&s->c, o, err);
    if (!rc)
        rc = open_output(s, err);
    if (rc) {
        fs_sink_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return SL_OK;
}

const sl_connector sl_connector_filesystem = {
    .version = SL_CONNECTOR_VERSION,
    .name = "filesystem",
    .doc = "Reads (bounded) and writes files of json or csv records, one "
           "per line.",
    .options = fs_options,
    .open_source = fs_open_source,
    .open_sink = fs_open_sink,
    .sink_accepts_updates = false,
};
