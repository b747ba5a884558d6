/*
 * providers.c: the registry of model providers. Adding a provider is one
 * line here plus its own provider_<name>.c (see model_int.h).
 */
#include <string.h>

#include "model_int.h"

static const sl_model_provider *const providers[] = {
    &sl_model_provider_openai,
    &sl_model_provider_http,
    &sl_model_provider_triton,
    &sl_model_provider_xgboost,
};

const sl_model_provider *sl_model_provider_find(const char *name)
{
    for (size_t i = 0; name && i < SL_ARRAY_LEN(providers); i++)
        if (sl_str_ieq(providers[i]->name, name))
            return providers[i];
    return NULL;
}

int sl_model_provider_count(void)
{
    return (int)SL_ARRAY_LEN(providers);
}

const sl_model_provider *sl_model_provider_at(int i)
{
    return i >= 0 && i < (int)SL_ARRAY_LEN(providers) ? providers[i] : NULL;
}
