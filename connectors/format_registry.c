/*
 * format_registry.c: the table of record formats ('format' = '...').
 */
#include <stddef.h>

#include "format.h"

extern const sl_format sl_format_json, sl_format_csv;
extern const sl_format sl_format_raw;
extern const sl_format sl_format_avro_confluent;

static const sl_format *const formats[] = {
    &sl_format_json,           &sl_format_csv, &sl_format_raw,
    &sl_format_avro_confluent, NULL,
};

const sl_format *sl_format_find(const char *name)
{
    for (int i = 0; formats[i]; i++)
        if (sl_str_ieq(formats[i]->name, name))
            return formats[i];
    return NULL;
}
