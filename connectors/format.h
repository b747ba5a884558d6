/*
 * format.h: record formats (json, csv, raw, avro-confluent) shared by the
 * filesystem and Kafka connectors.
 *
 * A decoder turns one record's bytes into values of selected batch columns
 * (col_map[i] is the batch column of the format's i-th field; the format's
 * fields are fmt_schema). col_map[i] = -1 in a decoder's info: the query
 * reads no such column; the field is checked only as far as needed to
 * find the next one (its value is not converted, so its type errors do
 * not count, as with Flink's projection push-down). It writes into an already
 * appended row and copies strings into the batch arena (or pins). An encoder
 * turns one batch row into bytes. Options are read under the format's prefix
 * ("json.", "csv.", ...; Kafka's 'key.json.' and 'value.json.' pass the right
 * one). Errors name the field and reason; the caller adds file/line or
 * topic/partition/offset.
 */
#ifndef SL_FORMAT_H
#define SL_FORMAT_H

#include "batch.h"
#include "options.h"

#define SL_FORMAT_VERSION 1

typedef struct sl_format_info {
    const sl_schema *fmt_schema; /* the fields this format reads/writes */
    const int *col_map;          /* fmt field i -> batch column */
    sl_options *options;
    const char *prefix; /* e.g. "json." or "value.json." */
} sl_format_info;

typedef struct sl_decoder sl_decoder;
struct sl_decoder {
    int (*decode)(sl_decoder *dec, const char *data, size_t len,
                  sl_batch *batch, sl_value *row, sl_err *err);
    void (*close)(sl_decoder *dec);
};

typedef struct sl_encoder sl_encoder;
struct sl_encoder {
    int (*encode)(sl_encoder *enc, const sl_batch *batch, int row, sl_buf *out,
                  sl_err *err);
    void (*close)(sl_encoder *enc);
};

typedef struct sl_format {
    int version; /* SL_FORMAT_VERSION */
    const char *name;
    const sl_option_def *options;
    int (*open_decoder)(const sl_format_info *info, sl_decoder **out,
                        sl_err *err);
    int (*open_encoder)(const sl_format_info *info, sl_encoder **out,
                        sl_err *err);
} sl_format;

const sl_format *sl_format_find(const char *name);

#endif
