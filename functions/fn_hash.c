/*
 * fn_hash.c: digests and encodings: MD5, SHA1, SHA256, SHA2, TO_BASE64,
 * FROM_BASE64.
 *
 * The digests are small, self-contained implementations written from
 * their specifications (RFC 1321, FIPS 180-4), so the library needs no
 * crypto dependency for what are checksums in SQL. They hash the bytes of
 * the argument (the UTF-8 text, or the BLOB) and return lower-case hex, as
 * Flink does.
 */
#include <string.h>

#include "fn_int.h"

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

/* Pad a message the MD5/SHA way into blocks, calling block() for each. */
typedef void (*block_fn)(uint32_t *state, const unsigned char *p);

static void md_run(const unsigned char *msg, uint64_t n, uint32_t *state,
                   block_fn block, bool big_endian)
{
    uint64_t i = 0;
    for (; i + 64 <= n; i += 64)
        block(state, msg + i);
    unsigned char tail[128];
    size_t rest = (size_t)(n - i);
    memcpy(tail, msg + i, rest);
    tail[rest++] = 0x80;
    size_t total = rest + 8 <= 64 ? 64 : 128;
    memset(tail + rest, 0, total - rest);
    uint64_t bits = n * 8;
    for (int k = 0; k < 8; k++) {
        if (big_endian)
            tail[total - 1 - k] = (unsigned char)(bits >> (8 * k));
        else
            tail[total - 8 + k] = (unsigned char)(bits >> (8 * k));
    }
    block(state, tail);
    if (total == 128)
        block(state, tail + 64);
}

/* ---- MD5 (RFC 1321) ------------------------------------------------------ */

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const int md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(uint32_t *h, const unsigned char *p)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
               (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + md5_k[i] + m[g], md5_r[i]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

/* ---- SHA-1 and SHA-2 (FIPS 180-4) ---------------------------------------- */

static void sha1_block(uint32_t *h, const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static void sha256_block(uint32_t *h, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
             g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + sha256_k[i] + w[i];
        uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

static const unsigned char *arg_bytes(sqlite3_value *v, int64_t *n)
{
    const unsigned char *p;
    if (sqlite3_value_type(v) == SQLITE_BLOB)
        p = sqlite3_value_blob(v);
    else
        p = sqlite3_value_text(v);
    *n = sqlite3_value_bytes(v);
    if (!p) {
        *n = 0;
        return (const unsigned char *)"";
    }
    return p;
}

static void result_hex_words(sqlite3_context *ctx, const uint32_t *h,
                             int n_words, bool little_endian)
{
    char out[129];
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < n_words; i++) {
        for (int k = 0; k < 4; k++) {
            int shift = little_endian ? 8 * k : 24 - 8 * k;
            unsigned b = (h[i] >> shift) & 0xff;
            out[o++] = hex[b >> 4];
            out[o++] = hex[b & 15];
        }
    }
    out[o] = '\0';
    sqlite3_result_text(ctx, out, o, SQLITE_TRANSIENT);
}

static void fn_md5(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    const unsigned char *p = arg_bytes(argv[0], &n);
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    md_run(p, (uint64_t)n, h, md5_block, false);
    result_hex_words(ctx, h, 4, true);
}

static void fn_sha1(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    const unsigned char *p = arg_bytes(argv[0], &n);
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
                     0xc3d2e1f0};
    md_run(p, (uint64_t)n, h, sha1_block, true);
    result_hex_words(ctx, h, 5, false);
}

static void sha2(sqlite3_context *ctx, sqlite3_value *v, int bits)
{
    int64_t n;
    const unsigned char *p = arg_bytes(v, &n);
    uint32_t h256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint32_t h224[8] = {0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
                        0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4};
    uint32_t *h = bits == 224 ? h224 : h256;
    md_run(p, (uint64_t)n, h, sha256_block, true);
    result_hex_words(ctx, h, bits == 224 ? 7 : 8, false);
}

static void fn_sha256(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        sha2(ctx, argv[0], 256);
}

static void fn_sha224(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        sha2(ctx, argv[0], 224);
}

/* SHA2(s, bits): bits 224 or 256 (384 and 512 are not provided). */
static void fn_sha2(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t bits;
    if (!sl_fn_arg_int(ctx, argv[1], "hash length", &bits))
        return;
    if (bits != 224 && bits != 256 && bits != 0) {
        sl_fn_error(ctx, "SHA2: hash length must be 224 or 256, got %lld",
                    (long long)bits);
        return;
    }
    sha2(ctx, argv[0], bits == 224 ? 224 : 256);
}

/* ---- base64 ----------------------------------------------------------------
 */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void fn_to_base64(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    const unsigned char *p = arg_bytes(argv[0], &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int64_t i = 0; i < n && b.rc == SL_OK; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
                     i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        sl_buf_append(&b, q, 4);
    }
    sl_fn_result_buf(ctx, &b);
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* FROM_BASE64(s): the decoded bytes as text (Flink returns STRING); an
 * error for characters outside the alphabet. */
static void fn_from_base64(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    const unsigned char *p = arg_bytes(argv[0], &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    uint32_t acc = 0;
    int bits = 0;
    for (int64_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '=' || c == '\n' || c == '\r' || c == ' ')
            continue;
        int v = b64_val(c);
        if (v < 0) {
            sl_buf_free(&b);
            sl_fn_error(ctx,
                        "FROM_BASE64: invalid base64 character at offset "
                        "%lld",
                        (long long)i);
            return;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sl_buf_putc(&b, (char)((acc >> bits) & 0xff));
        }
    }
    sl_fn_result_buf(ctx, &b);
}

#define H(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "string", lo, hi, 0, fn                           \
    }

const sl_function_info sl_fn_hash_table[] = {
    H("MD5", "MD5(s)", "STRING", "MD5 digest of s as 32 hex digits", 1, 1,
      fn_md5),
    H("SHA1", "SHA1(s)", "STRING", "SHA-1 digest of s as 40 hex digits", 1, 1,
      fn_sha1),
    H("SHA224", "SHA224(s)", "STRING", "SHA-224 digest of s as hex", 1, 1,
      fn_sha224),
    H("SHA256", "SHA256(s)", "STRING", "SHA-256 digest of s as 64 hex digits",
      1, 1, fn_sha256),
    H("SHA2", "SHA2(s, bits)", "STRING",
      "SHA-224 or SHA-256 digest of s (bits 224 or 256)", 2, 2, fn_sha2),
    H("TO_BASE64", "TO_BASE64(s)", "STRING", "s (text or bytes) in base64", 1,
      1, fn_to_base64),
    H("FROM_BASE64", "FROM_BASE64(s)", "STRING", "base64 text s decoded", 1, 1,
      fn_from_base64),
    {0},
};
