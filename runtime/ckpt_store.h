/*
 * ckpt_store.h: where checkpoints are copied for recovery on another
 * machine ('state.checkpoints.dir'): a local directory or an S3-compatible
 * bucket (s3://bucket/prefix, signed with AWS SigV4 by libcurl).
 *
 * A store is a flat namespace of objects under a root (directory or
 * bucket prefix). Object names use only [A-Za-z0-9._/-]. put() replaces an
 * object atomically (directory: write to a temporary file, fsync, rename;
 * S3: a single PUT). checkpoint.c decides which objects exist.
 */
#ifndef SL_CKPT_STORE_H
#define SL_CKPT_STORE_H

#include "util.h"

#define SL_STORE_MAX_OBJECTS 100000 /* listed per call */

typedef struct sl_store sl_store;

typedef struct sl_store_config {
    const char *uri; /* "/dir", "file:///dir" or "s3://bucket/prefix" */
    /* S3 only; NULL: AWS_ENDPOINT_URL / AWS_REGION (AWS_DEFAULT_REGION) /
     * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment. */
    const char *endpoint; /* http(s)://host:port; NULL: AWS */
    const char *region;   /* default us-east-1 */
    const char *access_key;
    const char *secret_key;
    int timeout_ms; /* per request; 0: 30000 */
} sl_store_config;

int sl_store_open(const sl_store_config *cfg, sl_store **out, sl_err *err);
void sl_store_free(sl_store *st);
/* A description for messages ("s3://b/p" or the directory). */
const char *sl_store_uri(const sl_store *st);

int sl_store_put(sl_store *st, const char *name, const void *data, size_t len,
                 sl_err *err);
/* Upload bytes [off, off + len) of a local file (streamed: nothing of its
 * size is held in memory). */
int sl_store_put_file(sl_store *st, const char *name, const char *path,
                      int64_t off, int64_t len, sl_err *err);
/* Append the object's bytes to the open file descriptor fd (streamed);
 * SL_NOTFOUND when it does not exist. *len receives the bytes written. */
int sl_store_get_fd(sl_store *st, const char *name, int fd, int64_t *len,
                    sl_err *err);
/* SL_NOTFOUND when the object does not exist. out receives the bytes. */
int sl_store_get(sl_store *st, const char *name, sl_buf *out, sl_err *err);
/* Names under prefix (relative to the root), sorted; free with
 * sl_store_names_free. */
int sl_store_list(sl_store *st, const char *prefix, char ***names, int *n,
                  sl_err *err);
void sl_store_names_free(char **names, int n);
/* Deleting an object that does not exist is not an error. */
int sl_store_delete(sl_store *st, const char *name, sl_err *err);

#endif
