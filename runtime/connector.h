/*
 * connector.h: the plugin contract between the runtime and connectors.
 *
 * A connector ('connector' = 'kafka' in a table's WITH clause) is a
 * versioned struct of function pointers (STYLE.md habit 14: append fields,
 * never reorder; `version` first). The planner opens a source for a table
 * read by a job and a sink for the table it writes; the job loop then
 * drives them:
 *
 *   source:  read() appends decoded rows to a batch without blocking and
 *            says whether more is ready, nothing is ready now (wait on
 *            wait_fd / wakeup time), or the input ended (bounded source).
 *            ack() tells the source that every row up to those positions
 *            has been durably written downstream (commit offsets there,
 *            never earlier: STYLE.md habit 20). pause() is backpressure.
 *   sink:    write() takes a batch (rows carry their change kind) with a
 *            sequence number; acked() returns the highest sequence whose
 *            rows, and all before it, are durable; flush() waits for all.
 *
 * Sources and sinks are structs that begin with sl_source / sl_sink, so a
 * connector casts to its own type. Every call reports failure through
 * sl_err with a message a user can act on (file/line, topic/partition/
 * offset and the reason).
 */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <sqlite3.h>

#include "batch.h"
#include "options.h"

#define SL_CONNECTOR_VERSION 1

/* What the planner tells a connector about the table. */
typedef struct sl_table_info {
    const char *name;                 /* the table's name, for messages */
    const sl_schema *schema;          /* the columns the connector fills/reads:
                                         physical and metadata, in declared order
                                         (computed columns are the planner's) */
    const char *const *metadata_keys; /* per column: NULL for a physical
                                         column, else the metadata key */
    const bool *metadata_virtual;     /* per column: VIRTUAL metadata */
    int n_primary_key;
    const int *primary_key; /* column indexes */
    sl_options *options;    /* WITH options; read what you use */
    int batch_rows;         /* preferred batch size */
} sl_table_info;

typedef enum sl_read_status {
    SL_READ_MORE = 0, /* call read again soon: more is ready */
    SL_READ_IDLE = 1, /* nothing now: wait on wait_fd / wakeup_ms */
    SL_READ_EOF = 2,  /* bounded input is exhausted */
} sl_read_status;

typedef struct sl_source sl_source;
typedef struct sl_source_ops {
    /* Append rows to batch until it is full or nothing is ready. */
    int (*read)(sl_source *src, sl_batch *batch, sl_read_status *status,
                sl_err *err);
    /* Optional: an fd that becomes readable when data may be ready (-1:
     * none) and the monotonic ms time to call read again at the latest
     * (-1: no deadline). */
    void (*wait_hint)(sl_source *src, int *fd, int64_t *wakeup_ms);
    /* Optional: rows up to pos (per split) are durable downstream. */
    int (*ack)(sl_source *src, const sl_srcpos *pos, int n_pos, sl_err *err);
    /* Optional: stop/resume fetching (backpressure). */
    void (*pause)(sl_source *src, bool paused);
    /* Optional: fraction of a bounded input read so far, or -1. */
    double (*progress)(sl_source *src);
    void (*close)(sl_source *src);
    /* Fields below were appended for checkpoints (issue 9); a source
     * without them cannot resume from a checkpoint.
     *
     * Optional: called once before the first read() when the job resumes
     * from a checkpoint: continue after pos (per split, the last position
     * whose results are durable; positions of splits not listed start from
     * the beginning). Rows after them are read again (at-least-once). */
    int (*seek)(sl_source *src, const sl_srcpos *pos, int n_pos, sl_err *err);
    /* Optional: state beyond positions, written into the job's state
     * database (SQLite, inside the checkpoint's transaction) in tables
     * whose names start with prefix; restore() reads them back before
     * seek(). Keep the table layout versioned in a row of your own. */
    int (*snapshot)(sl_source *src, sqlite3 *state, const char *prefix,
                    sl_err *err);
    int (*restore)(sl_source *src, sqlite3 *state, const char *prefix,
                   sl_err *err);
    /* Appended (issue 8), optional: the splits the source reads now (Kafka:
     * its assigned partitions that have not reached a bounded end), up to
     * max into out; returns how many. The job registers them with its
     * watermark tracker, so a split that has delivered no row yet holds
     * the watermark back as in Flink (until 'scan.watermark.idle-timeout')
     * instead of being ignored until its first row. */
    int (*splits)(sl_source *src, int32_t *out, int max);
    /* Appended (issue 5), optional: the query reads only the columns with
     * used[i] (i < n_cols of the table's schema); the source may leave the
     * others NULL, e.g. not decode them. Called at most once, before the
     * first read(). */
    int (*project)(sl_source *src, const bool *used, int n_cols, sl_err *err);
    /* Appended (issue 5), optional: how many records of the input lie
     * after the read position, as far as the source knows without a
     * request (Kafka: up to each assigned partition's high watermark from
     * the last fetch), or -1 when it does not know yet. Called by the job
     * thread when it publishes metrics. */
    int64_t (*lag)(sl_source *src);
} sl_source_ops;

struct sl_source {
    const sl_source_ops *ops;
    bool is_bounded;
};

typedef struct sl_sink sl_sink;
typedef struct sl_sink_ops {
    int (*write)(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                 sl_err *err);
    /* Highest seq durable with all before it (synchronous sinks: last). */
    uint64_t (*acked)(sl_sink *sink);
    /* Optional: an fd to poll for delivery progress, or -1. */
    int (*poll_fd)(sl_sink *sink);
    /* Serve delivery callbacks without blocking; optional. */
    int (*poll)(sl_sink *sink, sl_err *err);
    /* Wait until everything written is durable or timeout_ms passes. */
    int (*flush)(sl_sink *sink, int timeout_ms, sl_err *err);
    void (*close)(sl_sink *sink);
    /* Fields below were appended for sinks with transactions tied to
     * checkpoints (kafka 'exactly-once', issue 9); all optional.
     *
     * restore: once before the first write() of a job with checkpoints
     * (also when there is no checkpoint yet): recover from the tables named
     * prefix* of the state database (finish or redo what the last
     * checkpoint prepared). A sink that needs checkpoints fails write()
     * when restore was never called. */
    int (*restore)(sl_sink *sink, sqlite3 *state, const char *prefix,
                   sl_err *err);
    /* snapshot: inside the checkpoint's SQLite transaction, after flush():
     * write what recovery needs into tables named prefix*. */
    int (*snapshot)(sl_sink *sink, sqlite3 *state, const char *prefix,
                    sl_err *err);
    /* committed: the checkpoint's transaction committed; commit the
     * output it covers (failure fails the job; restore redoes it). */
    int (*checkpoint_committed)(sl_sink *sink, sl_err *err);
} sl_sink_ops;

struct sl_sink {
    const sl_sink_ops *ops;
};

typedef struct sl_connector {
    int version; /* SL_CONNECTOR_VERSION */
    const char *name;
    const char *doc;
    const sl_option_def *options; /* NULL-key terminated */
    /* NULL when the connector cannot be read / written. */
    int (*open_source)(const sl_table_info *table, sl_source **out,
                       sl_err *err);
    int (*open_sink)(const sl_table_info *table, sl_sink **out, sl_err *err);
    /* The sink takes -U/+U/-D rows (print, upsert-kafka). */
    bool sink_accepts_updates;
    /* Metadata keys the connector offers, with their SQL types as text
     * ("BIGINT", "MAP<STRING, BYTES>"), NULL-terminated. */
    const char *const *metadata_keys;
    const char *const *metadata_types;
    const bool *metadata_writable;
    /* Appended: the source yields an updating changelog (+U/-D by key,
     * upsert-kafka), so the planner treats its rows as updates. */
    bool source_is_updating;
} sl_connector;

/* The connector registered under name (case-insensitive), or NULL. */
const sl_connector *sl_connector_find(const char *name);
/* All registered connectors, NULL-terminated. */
const sl_connector *const *sl_connector_all(void);

#endif
