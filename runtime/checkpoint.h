/*
 * checkpoint.h: a job's state database and its checkpoints.
 *
 * Every job run with 'state.dir' (or 'execution.checkpointing.interval')
 * keeps a SQLite database in WAL mode at <state.dir>/<job id>/state.db.
 * A checkpoint is one SQLite transaction holding:
 *   meta(key, value)            checkpoint id, time, job id, savepoint origin
 *   positions(input, source, split, offset)
 *                               per source split, the last position whose
 *                               results the sink acknowledged (at-least-once:
 *                               on restore, the source resumes after it)
 *   watermarks(input, source, watermark)
 *   <prefix>*                   tables an operator or source with a
 *                               snapshot() op writes (operator.h,
 *                               connector.h), inside the same transaction
 * A kill -9 at any point leaves the last committed checkpoint (SQLite's
 * atomic commit). The job loop (job.c) drives begin/save/commit.
 *
 * With a store ('state.checkpoints.dir': a directory or s3://bucket/prefix)
 * every checkpoint is also uploaded, incrementally: the WAL bytes appended
 * since the previous upload (the pages the checkpoint changed), and every
 * 'full_every' checkpoints (and first after opening) a full base: the
 * database file after a TRUNCATE checkpoint of the WAL. Objects, under
 * <job id>/:
 *   base-<id>.db              the database at checkpoint id
 *   wal-<id>-<from>.bin       WAL bytes [from, from + size) at checkpoint id
 * Restore takes the newest base and the chain of WAL pieces after it.
 * Retention keeps the newest 'retained' checkpoints restorable and deletes
 * the objects only older ones need.
 *
 * Hook for later: the model result cache (runtime/op_model.c) can persist
 * into this database through an operator snapshot() writing a
 * '<prefix>cache' table; nothing stores it yet.
 */
#ifndef SL_CHECKPOINT_H
#define SL_CHECKPOINT_H

#include <sqlite3.h>

#include "batch.h"

#define SL_CKPT_DEFAULT_INTERVAL_MS 10000
#define SL_CKPT_DEFAULT_FULL_EVERY  20
#define SL_CKPT_MAX_RETAINED        1000

typedef struct sl_ckpt sl_ckpt;

typedef struct sl_ckpt_config {
    const char *state_dir; /* required */
    const char *job_id;    /* stable name; sanitized to [A-Za-z0-9._-] */
    int64_t interval_ms;   /* 0: SL_CKPT_DEFAULT_INTERVAL_MS */
    const char *store;     /* NULL: none; a directory or s3://bucket/prefix */
    int retained;          /* checkpoints kept in the store; 0: 1 */
    int full_every;        /* full base every N checkpoints; 0: default */
    const char *s3_endpoint, *s3_region, *s3_access_key, *s3_secret_key;
    const char *savepoint_path; /* restore from it once (a .db file) */
} sl_ckpt_config;

typedef struct sl_ckpt_stats {
    int64_t last_id; /* 0: no checkpoint yet */
    int64_t n_taken; /* by this process */
    int64_t last_duration_us;
    int64_t last_upload_bytes;
    bool last_full;
    int64_t total_upload_bytes;
    int64_t db_bytes;   /* database file + WAL */
    int64_t restore_us; /* opening, including a download from the store */
    const char *restored_from; /* "", "local", "store", "savepoint" */
} sl_ckpt_stats;

/* Open (creating or restoring) the job's state database: a savepoint
 * given and not yet applied wins; else the local database; else the
 * store's newest checkpoint; else empty. */
int sl_ckpt_open(const sl_ckpt_config *cfg, sl_ckpt **out, sl_err *err);
void sl_ckpt_free(sl_ckpt *c);

sqlite3 *sl_ckpt_db(sl_ckpt *c);
int64_t sl_ckpt_interval_ms(const sl_ckpt *c);
const char *sl_ckpt_job_id(const sl_ckpt *c);
const char *sl_ckpt_db_path(const sl_ckpt *c);
void sl_ckpt_stats_get(const sl_ckpt *c, sl_ckpt_stats *stats);

/* The positions recorded for input (source name checked) by the last
 * checkpoint; *pos (sl_free) NULL and *n 0 when none. */
int sl_ckpt_load_positions(sl_ckpt *c, int input, const char *source,
                           sl_srcpos **pos, int *n, sl_err *err);

/* A checkpoint: begin, save..., commit (then upload). abort on failure. */
int sl_ckpt_begin(sl_ckpt *c, sl_err *err);
int sl_ckpt_save_positions(sl_ckpt *c, int input, const char *source,
                           const sl_srcpos *pos, int n, sl_err *err);
int sl_ckpt_save_watermark(sl_ckpt *c, int input, const char *source,
                           int64_t watermark_ms, sl_err *err);
int sl_ckpt_commit(sl_ckpt *c, sl_err *err);
void sl_ckpt_abort(sl_ckpt *c);

/* Copy the last checkpoint to <dir>/<job id>-<checkpoint id>.db (SQLite
 * backup API); *path (sl_free) receives the file's path. */
int sl_ckpt_savepoint(sl_ckpt *c, const char *dir, char **path, sl_err *err);

#endif
