/*
 * format_int.h: what the json and csv formats share with the connectors
 * that use them (filesystem here, Kafka elsewhere), beyond format.h.
 *
 * Result codes of a decoder's decode():
 *   SL_OK        the row holds the record's values;
 *   SL_ERROR     the record is malformed or a value does not fit its
 *                column (err names the field and the reason); a caller
 *                honouring '<fmt>.ignore-parse-errors' drops the row and
 *                counts it, otherwise it fails with its own position
 *                prefix ("file:line: ", "topic/partition/offset: ");
 *   SL_NOTFOUND  the record holds no row (a CSV comment line with
 *                'csv.allow-comments'); drop the row, count nothing;
 *   SL_NOMEM / SL_LIMIT  resources: always fatal.
 * Also: option-key building under a prefix, base64 (BYTES travel as
 * base64 text in both formats, as in Flink) and the CSV record splitter
 * that line-oriented readers need because quoted CSV fields may span lines.
 */
#ifndef SL_FORMAT_INT_H
#define SL_FORMAT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"

/* Nesting bound for JSON values (objects/arrays inside a record). */
#define SL_JSON_MAX_DEPTH 64

/* "<prefix><name>" into buf (prefix may be NULL). */
static inline const char *sl_format_key(char *buf, size_t size,
                                        const char *prefix, const char *name)
{
    sl_snprintf(buf, size, "%s%s", prefix ? prefix : "", name);
    return buf;
}

/* Reads '<prefix>ignore-parse-errors' (default false). Both the format and
 * the connector read it; reading marks it used. */
static inline int sl_format_ignore_errors(sl_options *opts, const char *prefix,
                                          bool *out, sl_err *err)
{
    char key[128];
    return sl_options_bool(
        opts, sl_format_key(key, sizeof(key), prefix, "ignore-parse-errors"),
        false, out, err);
}

/* Temporal values the formats accept: years 0000..9999 (as Flink), TIME
 * within one day. Values outside could not be written back as text. */
#define SL_FORMAT_MIN_MS (-62167219200000LL) /* 0000-01-01 00:00:00 */
#define SL_FORMAT_MAX_MS 253402300799999LL   /* 9999-12-31 23:59:59.999 */
static inline bool sl_format_temporal_ok(sl_type_id id, int64_t v)
{
    switch (id) {
    case SL_TYPE_DATE:
        return v >= SL_FORMAT_MIN_MS / 86400000 &&
               v <= SL_FORMAT_MAX_MS / 86400000;
    case SL_TYPE_TIME:
        return v >= 0 && v < 86400000;
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        return v >= SL_FORMAT_MIN_MS && v <= SL_FORMAT_MAX_MS;
    default:
        return true;
    }
}

/* Standard base64 (RFC 4648) with padding. encode appends to out;
 * decode writes at most (len / 4 * 3) bytes to dst and returns the number
 * written, or -1 when the text is not base64. Defined in format_json.c. */
int sl_format_base64_encode(const unsigned char *b, size_t len, sl_buf *out);
long sl_format_base64_decode(const char *s, size_t len, unsigned char *dst);

/* Length of the first complete CSV record in data[0..len) including its
 * line terminator, honouring the decoder's quote and escape characters (a
 * quoted field may hold newlines). Returns false when the record is not
 * complete yet (no terminator outside quotes); *n_newlines receives the
 * newlines inside the record. dec must come from the csv format. Defined in
 * format_csv.c. */
bool sl_csv_record_end(const sl_decoder *dec, const char *data, size_t len,
                       size_t *rec_len, int *n_newlines);

#endif
