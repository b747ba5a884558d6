/*
 * fuzz_avro.c: libFuzzer target for the avro-confluent decoder.
 *
 * An input whose first byte is odd is an Avro writer schema (JSON text) to
 * compile against a fixed table; otherwise the rest is a record body
 * decoded with a fixed writer schema that uses every Avro type (unions,
 * arrays, maps, enums, fixed, nested records, logical types). Neither may
 * crash, read out of bounds or leak, whatever the bytes.
 */
#include <stdint.h>

/* Compiled into this target (rather than taken from libsluice) so that
 * libFuzzer's coverage instrumentation sees the decoder. */
#include "../../connectors/format_avro.c"

static const char writer[] =
    "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
    "{\"name\":\"a\",\"type\":[\"null\",\"long\"]},"
    "{\"name\":\"s\",\"type\":[\"string\",\"null\"]},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"map\",\"values\":\"double\"}}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
    "\"symbols\":[\"X\",\"Y\"]}},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\","
    "\"size\":3}},"
    "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":"
    "\"decimal\",\"precision\":10,\"scale\":2}},"
    "{\"name\":\"nested\",\"type\":{\"type\":\"record\",\"name\":\"N\","
    "\"fields\":[{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"b\","
    "\"type\":\"boolean\"}]}},"
    "{\"name\":\"bin\",\"type\":\"bytes\"},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":"
    "\"timestamp-micros\"}},"
    "{\"name\":\"d\",\"type\":\"double\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sl_arena arena;
    static sl_schema *schema;
    static sl_avro_schema *fixed;
    static const int col_map[] = {0, 1, 2, 3, 4, 5, 6};
    if (!schema) {
        sl_arena_init(&arena, 4096, 0);
        const char *names[] = {"a", "s", "e", "fx", "dec", "ts", "d"};
        const sl_type *types[] = {
            sl_type_simple(SL_TYPE_BIGINT),  sl_type_simple(SL_TYPE_VARCHAR),
            sl_type_simple(SL_TYPE_VARCHAR), sl_type_simple(SL_TYPE_VARBINARY),
            sl_type_simple(SL_TYPE_DECIMAL), sl_type_simple(SL_TYPE_TIMESTAMP),
            sl_type_simple(SL_TYPE_DOUBLE)};
        schema = sl_schema_new(&arena, 7, names, types);
        sl_err err;
        sl_err_clear(&err);
        fixed = sl_avro_schema_compile(writer, strlen(writer), schema, col_map,
                                       &err);
        if (!fixed)
            return 0;
    }
    if (size == 0)
        return 0;
    sl_err err;
    sl_err_clear(&err);
    sl_batch *batch = sl_batch_new(schema, 1);
    if (!batch)
        return 0;
    sl_value *row = sl_batch_append_row(batch);
    if (data[0] & 1) {
        sl_avro_schema *s = sl_avro_schema_compile(
            (const char *)data + 1, size - 1, schema, col_map, &err);
        if (s) {
            static const unsigned char body[] = {2, 4, 0, 0, 0, 0};
            sl_avro_decode_body(s, body, sizeof(body), batch, row, &err);
            sl_avro_schema_free(s);
        }
    } else {
        sl_avro_decode_body(fixed, data + 1, size - 1, batch, row, &err);
    }
    sl_batch_free(batch);
    return 0;
}
