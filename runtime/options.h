/*
 * options.h: the WITH ('key' = 'value', ...) options of tables and models.
 *
 * Options arrive from the planner as an ordered list of key/value strings.
 * Connectors, formats and providers read them through typed getters that
 * validate (range, choices, durations like '10 s' or '500ms', sizes like
 * '16mb') and mark each key as used, so that sl_options_check_unused can
 * reject a misspelt key with a "did you mean" hint, as Flink does.
 * Every reader declares its options in an sl_option_def table, from which
 * docs are generated (STYLE.md habit 15).
 */
#ifndef SL_OPTIONS_H
#define SL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef struct sl_option {
    const char *key;
    const char *value;
    bool used;
} sl_option;

typedef struct sl_options {
    int n;
    sl_option *items; /* owned by whoever built the list */
} sl_options;

/* A declared option: for validation hints and generated docs. A key may
 * end in ".*" (a prefix family such as "properties.*"). */
typedef struct sl_option_def {
    const char *key;
    const char *type; /* "string", "int", "bool", "duration", "enum" */
    const char *dflt; /* default as text, NULL when required/none */
    const char *doc;  /* one sentence */
} sl_option_def;

/* Raw value or NULL; marks the key used. */
const char *sl_options_get(sl_options *opts, const char *key);
bool sl_options_has(const sl_options *opts, const char *key);
/* Typed getters: a missing key gives dflt; a present but invalid value is an
 * error naming the key and what was expected. */
int sl_options_string(sl_options *opts, const char *key, const char *dflt,
                      const char **out, sl_err *err);
int sl_options_required(sl_options *opts, const char *key, const char *what,
                        const char **out, sl_err *err);
int sl_options_int(sl_options *opts, const char *key, int64_t dflt, int64_t min,
                   int64_t max, int64_t *out, sl_err *err);
int sl_options_double(sl_options *opts, const char *key, double dflt,
                      double min, double max, double *out, sl_err *err);
int sl_options_bool(sl_options *opts, const char *key, bool dflt, bool *out,
                    sl_err *err);
/* choices is NULL-terminated; matched case-insensitively; *out is the
 * index. */
int sl_options_enum(sl_options *opts, const char *key,
                    const char *const *choices, int dflt, int *out,
                    sl_err *err);
/* Flink durations: "100", "100ms", "10 s", "5 min", "1 h", "2d". */
int sl_options_duration_ms(sl_options *opts, const char *key, int64_t dflt,
                           int64_t *out, sl_err *err);
int sl_parse_duration_ms(const char *text, int64_t *out);
/* Sizes: "1024", "64kb", "16 mb", "1gb". */
int sl_options_bytes(sl_options *opts, const char *key, int64_t dflt,
                     int64_t *out, sl_err *err);
/* Visit every key starting with prefix (marking them used). The callback
 * receives the key with the prefix removed. */
int sl_options_each_prefix(sl_options *opts, const char *prefix,
                           int (*fn)(void *ctx, const char *subkey,
                                     const char *value, sl_err *err),
                           void *ctx, sl_err *err);
/* Mark a key used without reading it. */
void sl_options_mark(sl_options *opts, const char *key);
/* Fail on the first unused key: "unsupported option 'x' for <what>
 * (did you mean 'y'?)". defs (NULL-terminated by key) give the hints. */
int sl_options_check_unused(const sl_options *opts, const char *what,
                            const sl_option_def *defs, sl_err *err);

#endif
