/*
 * filesystem.h: what the planner may ask a filesystem source beyond the
 * connector contract: how many records '<format>.ignore-parse-errors'
 * skipped, so EXPLAIN/metrics and the end-of-job summary can show it.
 */
#ifndef SL_FILESYSTEM_H
#define SL_FILESYSTEM_H

#include <stdint.h>

#include "connector.h"

/* Records skipped so far because they failed to decode (only with
 * '<format>.ignore-parse-errors' = 'true'), or -1 when src was not opened
 * by the filesystem connector. */
int64_t sl_filesystem_skipped(const sl_source *src);

#endif
