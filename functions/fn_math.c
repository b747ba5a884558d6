/*
 * fn_math.c: numeric functions (ABS, MOD, ROUND, LOG, trigonometry, RAND,
 * BIN, HEX, UUID) with Flink's semantics.
 *
 * An INTEGER argument keeps an INTEGER result where Flink keeps the integer
 * type (ABS, MOD, CEIL, FLOOR, ROUND, TRUNCATE, SIGN); everything else is
 * DOUBLE (REAL). ROUND and TRUNCATE work on the shortest decimal text of a
 * double, as Flink's BigDecimal.valueOf does, so ROUND(2.675, 2) is 2.68,
 * and round half away from zero (HALF_UP). These replace SQLite's built-ins
 * of the same name, which differ (LOG is base 10 there, ROUND always
 * returns REAL and ignores negative places, MOD returns REAL).
 * Note that SQLite stores a NaN result as NULL.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fn_int.h"

/* A numeric argument: integer or double. Text is read as a number. */
typedef struct num {
    bool is_int;
    int64_t i;
    double d;
} num;

static bool num_arg(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                    num *out)
{
    int t = sqlite3_value_type(v);
    if (t == SQLITE_INTEGER) {
        out->is_int = true;
        out->i = sqlite3_value_int64(v);
        out->d = (double)out->i;
        return true;
    }
    if (t == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        if (s && sl_parse_int64(s, n, &out->i) == SL_OK) {
            out->is_int = true;
            out->d = (double)out->i;
            return true;
        }
    }
    out->is_int = false;
    if (!sl_fn_arg_double(ctx, v, what, &out->d))
        return false;
    return true;
}

static void fn_abs(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    num x;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "argument", &x))
        return;
    if (x.is_int)
        sqlite3_result_int64(ctx, x.i < 0 ? (int64_t)(0 - (uint64_t)x.i) : x.i);
    else
        sqlite3_result_double(ctx, fabs(x.d));
}

/* MOD(a, b): remainder with the sign of a (Java %). */
static void fn_mod(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    num a, b;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "dividend", &a) ||
        !num_arg(ctx, argv[1], "divisor", &b))
        return;
    if (a.is_int && b.is_int) {
        if (b.i == 0) {
            sl_fn_error(ctx, "MOD: division by zero");
            return;
        }
        sqlite3_result_int64(ctx, b.i == -1 ? 0 : a.i % b.i);
        return;
    }
    sqlite3_result_double(ctx, fmod(a.d, b.d));
}

static bool dbl_args(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                     double *x)
{
    if (sl_fn_any_null(argc, argv))
        return false;
    for (int i = 0; i < argc; i++)
        if (!sl_fn_arg_double(ctx, argv[i], "argument", &x[i]))
            return false;
    return true;
}

#define UNARY(fname, expr)                                                     \
    static void fname(sqlite3_context *ctx, int argc, sqlite3_value **argv)    \
    {                                                                          \
        double x[1];                                                           \
        if (dbl_args(ctx, argc, argv, x))                                      \
            sqlite3_result_double(ctx, expr);                                  \
    }

UNARY(fn_sqrt, sqrt(x[0]))
UNARY(fn_exp, exp(x[0]))
UNARY(fn_ln, log(x[0]))
UNARY(fn_log10, log10(x[0]))
UNARY(fn_log2, log2(x[0]))
UNARY(fn_sin, sin(x[0]))
UNARY(fn_cos, cos(x[0]))
UNARY(fn_tan, tan(x[0]))
UNARY(fn_cot, 1.0 / tan(x[0]))
UNARY(fn_asin, asin(x[0]))
UNARY(fn_acos, acos(x[0]))
UNARY(fn_atan, atan(x[0]))
UNARY(fn_sinh, sinh(x[0]))
UNARY(fn_cosh, cosh(x[0]))
UNARY(fn_tanh, tanh(x[0]))
UNARY(fn_degrees, x[0] * 180.0 / M_PI)
UNARY(fn_radians, x[0] * M_PI / 180.0)

static void fn_power(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double x[2];
    if (dbl_args(ctx, argc, argv, x))
        sqlite3_result_double(ctx, pow(x[0], x[1]));
}

static void fn_atan2(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double x[2];
    if (dbl_args(ctx, argc, argv, x))
        sqlite3_result_double(ctx, atan2(x[0], x[1]));
}

/* LOG(x) is the natural log; LOG(base, x) = ln(x) / ln(base). */
static void fn_log(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double x[2];
    if (!dbl_args(ctx, argc, argv, x))
        return;
    if (argc == 1)
        sqlite3_result_double(ctx, log(x[0]));
    else
        sqlite3_result_double(ctx, log(x[1]) / log(x[0]));
}

static void fn_pi(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_double(ctx, M_PI);
}

static void fn_e(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_double(ctx, M_E);
}

static void fn_ceil(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    num x;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "argument", &x))
        return;
    if (x.is_int)
        sqlite3_result_int64(ctx, x.i);
    else
        sqlite3_result_double(ctx, ceil(x.d));
}

static void fn_floor(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    num x;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "argument", &x))
        return;
    if (x.is_int)
        sqlite3_result_int64(ctx, x.i);
    else
        sqlite3_result_double(ctx, floor(x.d));
}

/* Round (or cut, when round is false) x at `places` decimal places on its
 * shortest decimal text, half away from zero. */
double sl_fn_decimal_round(double x, int64_t places, bool round)
{
    if (!isfinite(x) || x == 0)
        return x;
    if (places > 400)
        return x;
    if (places < -400)
        return 0.0; /* BigDecimal has no -0: Flink gives 0.0 */
    char txt[64];
    int prec;
    for (prec = 14; prec <= 16; prec++) {
        sl_snprintf(txt, sizeof(txt), "%.*e", prec, x);
        double back;
        if (sl_parse_double(txt, strlen(txt), &back) == SL_OK && back == x)
            break;
    }
    /* txt: [-]d.ddddde[+-]XX */
    bool neg = txt[0] == '-';
    const char *p = txt + (neg ? 1 : 0);
    char digits[40];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int64_t exp10 = 0;
    if (*p == 'e') {
        int64_t e;
        if (sl_parse_int64(p + 1, strlen(p + 1), &e) == SL_OK)
            exp10 = e;
    }
    /* value = 0.digits * 10^(exp10 + 1) */
    int64_t keep = exp10 + 1 + places;
    if (keep >= nd)
        return x;
    bool up = round && keep >= 0 && digits[keep] >= '5';
    if (keep <= 0) {
        if (keep == 0 && up) {
            char out[64];
            sl_snprintf(out, sizeof(out), "%s1e%lld", neg ? "-" : "",
                        (long long)(-places));
            double r = 0;
            sl_parse_double(out, strlen(out), &r);
            return r;
        }
        return 0.0; /* -0.0000001 to 6 places: 0.0, as Flink */
    }
    int n = (int)keep;
    int64_t e_out = exp10 + 1;
    if (up) {
        int i = n - 1;
        while (i >= 0 && digits[i] == '9') {
            digits[i] = '0';
            i--;
        }
        if (i >= 0) {
            digits[i]++;
        } else {
            memmove(digits + 1, digits, (size_t)n);
            digits[0] = '1';
            n++;
            e_out++;
        }
    }
    char out[80];
    sl_snprintf(out, sizeof(out), "%s0.%.*se%lld", neg ? "-" : "", n, digits,
                (long long)e_out);
    double r = 0;
    sl_parse_double(out, strlen(out), &r);
    return r;
}

static int64_t int_round(int64_t x, int64_t places, bool round)
{
    if (places >= 0)
        return x;
    if (places < -18)
        return 0;
    int64_t q = 1;
    for (int64_t i = 0; i < -places; i++)
        q *= 10;
    int64_t r = x % q, base = x - r;
    if (round && (r >= 0 ? r : -r) * 2 >= q) {
        if (x >= 0 && base <= INT64_MAX - q)
            base += q;
        else if (x < 0 && base >= INT64_MIN + q)
            base -= q;
    }
    return base;
}

static void round_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                     bool round)
{
    num x;
    int64_t places = 0;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "argument", &x))
        return;
    if (argc > 1 && !sl_fn_arg_int(ctx, argv[1], "decimal places", &places))
        return;
    if (x.is_int)
        sqlite3_result_int64(ctx, int_round(x.i, places, round));
    else
        sqlite3_result_double(ctx, sl_fn_decimal_round(x.d, places, round));
}

static void fn_round(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    round_fn(ctx, argc, argv, true);
}

static void fn_truncate(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    round_fn(ctx, argc, argv, false);
}

static void fn_sign(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    num x;
    if (sl_fn_any_null(argc, argv) || !num_arg(ctx, argv[0], "argument", &x))
        return;
    if (x.is_int)
        sqlite3_result_int(ctx, x.i > 0 ? 1 : (x.i < 0 ? -1 : 0));
    else
        sqlite3_result_double(ctx, x.d > 0 ? 1.0 : (x.d < 0 ? -1.0 : x.d));
}

/* ---- random -------------------------------------------------------------- */

/* Seeded generators keep their state per call site (auxdata on the seed
 * argument), so RAND(42) yields the same sequence in every run. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool next_random(sqlite3_context *ctx, sqlite3_value **argv, bool seeded,
                        uint64_t *out)
{
    if (!seeded) {
        sqlite3_randomness(sizeof(*out), out);
        return true;
    }
    uint64_t *state = sqlite3_get_auxdata(ctx, 0);
    if (!state) {
        int64_t seed;
        if (!sl_fn_arg_int(ctx, argv[0], "seed", &seed))
            return false;
        state = sqlite3_malloc64(sizeof(*state));
        if (!state) {
            sqlite3_result_error_nomem(ctx);
            return false;
        }
        *state = (uint64_t)seed;
        sqlite3_set_auxdata(ctx, 0, state, sqlite3_free);
        state = sqlite3_get_auxdata(ctx, 0);
        if (!state) {
            /* not a constant seed: one value from the seed itself */
            uint64_t s = (uint64_t)seed;
            *out = splitmix(&s);
            return true;
        }
    }
    *out = splitmix(state);
    return true;
}

static void fn_rand(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    uint64_t r;
    if (next_random(ctx, argv, argc > 0, &r))
        sqlite3_result_double(ctx, (double)(r >> 11) * 0x1.0p-53);
}

/* RAND_INTEGER([seed,] n): uniform in [0, n). */
static void fn_rand_integer(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t bound;
    if (!sl_fn_arg_int(ctx, argv[argc - 1], "bound", &bound))
        return;
    if (bound <= 0) {
        sl_fn_error(ctx, "RAND_INTEGER: bound must be positive, got %lld",
                    (long long)bound);
        return;
    }
    uint64_t r;
    if (next_random(ctx, argv, argc > 1, &r))
        sqlite3_result_int64(ctx, (int64_t)(r % (uint64_t)bound));
}

static void fn_uuid(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    unsigned char b[16];
    sqlite3_randomness(sizeof(b), b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char out[37];
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    sqlite3_result_text(ctx, out, o, SQLITE_TRANSIENT);
}

/* ---- BIN, HEX ------------------------------------------------------------ */

static void fn_bin(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int64_t x;
    if (sl_fn_any_null(argc, argv) ||
        !sl_fn_arg_int(ctx, argv[0], "argument", &x))
        return;
    char out[65];
    uint64_t u = (uint64_t)x;
    int n = 0;
    char tmp[64];
    do {
        tmp[n++] = (char)('0' + (u & 1));
        u >>= 1;
    } while (u);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    sqlite3_result_text(ctx, out, n, SQLITE_TRANSIENT);
}

/* HEX(x): an integer in hex (two's complement for negatives), or the bytes
 * of a string; upper case. */
static void fn_hex(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int t = sqlite3_value_type(argv[0]);
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
        int64_t x;
        if (!sl_fn_arg_int(ctx, argv[0], "argument", &x))
            return;
        char out[24];
        sl_snprintf(out, sizeof(out), "%llX", (unsigned long long)x);
        sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
        return;
    }
    const unsigned char *p = t == SQLITE_BLOB ? sqlite3_value_blob(argv[0])
                                              : sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int i = 0; p && i < n; i++)
        sl_buf_printf(&b, "%02X", p[i]);
    sl_fn_result_buf(ctx, &b);
}

#define M(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "math", lo, hi, 0, fn                             \
    }
#define MV(name, sig, ret, doc, lo, hi, fn)                                    \
    {                                                                          \
        name, sig, ret, doc, "math", lo, hi, SL_FN_VOLATILE, fn                \
    }

const sl_function_info sl_fn_math_table[] = {
    M("ABS", "ABS(x)", "same as x", "absolute value", 1, 1, fn_abs),
    M("MOD", "MOD(a, b)", "same as a", "remainder of a / b, sign of a", 2, 2,
      fn_mod),
    M("POWER", "POWER(a, b)", "DOUBLE", "a raised to the power b", 2, 2,
      fn_power),
    M("SQRT", "SQRT(x)", "DOUBLE", "square root", 1, 1, fn_sqrt),
    M("EXP", "EXP(x)", "DOUBLE", "e raised to the power x", 1, 1, fn_exp),
    M("LN", "LN(x)", "DOUBLE", "natural logarithm", 1, 1, fn_ln),
    M("LOG10", "LOG10(x)", "DOUBLE", "base-10 logarithm", 1, 1, fn_log10),
    M("LOG2", "LOG2(x)", "DOUBLE", "base-2 logarithm", 1, 1, fn_log2),
    M("LOG", "LOG([base,] x)", "DOUBLE",
      "natural logarithm of x, or logarithm of x to base", 1, 2, fn_log),
    M("CEIL", "CEIL(x)", "same as x", "smallest integer value >= x", 1, 1,
      fn_ceil),
    M("CEILING", "CEILING(x)", "same as x", "same as CEIL", 1, 1, fn_ceil),
    M("FLOOR", "FLOOR(x)", "same as x", "largest integer value <= x", 1, 1,
      fn_floor),
    M("ROUND", "ROUND(x[, d])", "same as x",
      "x rounded half up to d (default 0) decimal places; d may be negative", 1,
      2, fn_round),
    M("TRUNCATE", "TRUNCATE(x[, d])", "same as x",
      "x cut (towards zero) to d (default 0) decimal places", 1, 2,
      fn_truncate),
    M("SIGN", "SIGN(x)", "same as x", "-1, 0 or 1", 1, 1, fn_sign),
    M("PI", "PI()", "DOUBLE", "pi", 0, 0, fn_pi),
    M("E", "E()", "DOUBLE", "Euler's number e", 0, 0, fn_e),
    MV("RAND", "RAND([seed])", "DOUBLE",
       "random double in [0, 1); with a seed a repeatable sequence", 0, 1,
       fn_rand),
    MV("RAND_INTEGER", "RAND_INTEGER([seed,] n)", "INT",
       "random integer in [0, n); with a seed a repeatable sequence", 1, 2,
       fn_rand_integer),
    MV("UUID", "UUID()", "STRING", "a random (version 4) UUID", 0, 0, fn_uuid),
    M("SIN", "SIN(x)", "DOUBLE", "sine (radians)", 1, 1, fn_sin),
    M("COS", "COS(x)", "DOUBLE", "cosine (radians)", 1, 1, fn_cos),
    M("TAN", "TAN(x)", "DOUBLE", "tangent (radians)", 1, 1, fn_tan),
    M("COT", "COT(x)", "DOUBLE", "cotangent (radians)", 1, 1, fn_cot),
    M("ASIN", "ASIN(x)", "DOUBLE", "arc sine", 1, 1, fn_asin),
    M("ACOS", "ACOS(x)", "DOUBLE", "arc cosine", 1, 1, fn_acos),
    M("ATAN", "ATAN(x)", "DOUBLE", "arc tangent", 1, 1, fn_atan),
    M("ATAN2", "ATAN2(y, x)", "DOUBLE", "arc tangent of y / x", 2, 2, fn_atan2),
    M("SINH", "SINH(x)", "DOUBLE", "hyperbolic sine", 1, 1, fn_sinh),
    M("COSH", "COSH(x)", "DOUBLE", "hyperbolic cosine", 1, 1, fn_cosh),
    M("TANH", "TANH(x)", "DOUBLE", "hyperbolic tangent", 1, 1, fn_tanh),
    M("DEGREES", "DEGREES(x)", "DOUBLE", "radians to degrees", 1, 1,
      fn_degrees),
    M("RADIANS", "RADIANS(x)", "DOUBLE", "degrees to radians", 1, 1,
      fn_radians),
    M("BIN", "BIN(n)", "STRING", "n in binary (two's complement)", 1, 1,
      fn_bin),
    M("HEX", "HEX(x)", "STRING",
      "an integer in hex, or the bytes of a string in hex (upper case)", 1, 1,
      fn_hex),
    {0},
};
