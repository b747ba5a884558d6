/*
 * registry.c: the table of connectors the planner can name in
 * 'connector' = '...'. Adding a connector touches its own file and one line
 * here.
 */
#include <stddef.h>

#include "connector.h"

extern const sl_connector sl_connector_datagen, sl_connector_filesystem,
    sl_connector_print, sl_connector_blackhole, sl_connector_nexmark;
extern const sl_connector sl_kafka_connector;
extern const sl_connector sl_upsert_kafka_connector; /* upsert_kafka.c */

static const sl_connector *const connectors[] = {
    &sl_connector_datagen,      &sl_connector_filesystem,
    &sl_connector_print,        &sl_connector_blackhole,
    &sl_kafka_connector,        /* kafka.c */
    &sl_upsert_kafka_connector, /* upsert_kafka.c */
    &sl_connector_nexmark,      NULL,
};

const sl_connector *sl_connector_find(const char *name)
{
    for (int i = 0; connectors[i]; i++)
        if (sl_str_ieq(connectors[i]->name, name))
            return connectors[i];
    return NULL;
}

const sl_connector *const *sl_connector_all(void)
{
    return connectors;
}
