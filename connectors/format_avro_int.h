/*
 * format_avro_int.h: the pieces of the 'avro-confluent' format that tests,
 * the fuzz target and the schema-registry client share.
 *
 * An Avro writer schema (JSON text) compiles into an sl_avro_schema: a
 * tree of nodes in an arena, with the top-level record's fields matched
 * by name to the format's fields. Decoding a record body walks that tree
 * over the bytes (bounded depth, every length checked against the bytes
 * left) and writes the matched fields straight into the batch row.
 * Encoding writes a row with the schema derived from the table.
 */
#ifndef SL_FORMAT_AVRO_INT_H
#define SL_FORMAT_AVRO_INT_H

#include "format.h"

#define SL_AVRO_MAX_DEPTH 32

typedef struct sl_avro_schema sl_avro_schema;

/* Compile writer schema text against the format's fields (fmt_schema,
 * col_map as in sl_format_info). NULL with err set on failure. */
sl_avro_schema *sl_avro_schema_compile(const char *text, size_t len,
                                       const sl_schema *fmt_schema,
                                       const int *col_map, sl_err *err);
void sl_avro_schema_free(sl_avro_schema *schema);
/* Decode one Avro binary body (no Confluent header). SL_ERROR with the
 * field and reason in err when malformed or mistyped. */
int sl_avro_decode_body(const sl_avro_schema *schema, const unsigned char *p,
                        size_t len, sl_batch *batch, sl_value *row,
                        sl_err *err);
/* The Avro schema (JSON text) Sluice derives from the format's fields, as
 * Flink does: a record named "record", nullable columns as ["null", T]. */
int sl_avro_schema_derive(const sl_schema *fmt_schema, sl_buf *out,
                          sl_err *err);

/* Schema registry client (format_avro_registry.c), blocking, over libcurl
 * with a timeout; used once per schema id or subject, then cached. */
int sl_avro_registry_get(const char *url, const char *user_info, int32_t id,
                         sl_buf *schema_text, sl_err *err);
int sl_avro_registry_register(const char *url, const char *user_info,
                              const char *subject, const char *schema_text,
                              int32_t *id, sl_err *err);

#endif
