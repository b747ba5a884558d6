/*
 * test_functions.c: the scalar function library (functions/), evaluated
 * through SQLite exactly as a stage does: open an in-memory connection,
 * register, run `SELECT <expr>` and compare the result's storage class
 * and text. One table per group; each row is an expression, the expected
 * kind (i integer, r real, t text, b blob as hex, n NULL, e error whose
 * message contains the expected text) and the expected text.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"

typedef struct fcase {
    const char *expr;
    char kind;
    const char *want;
} fcase;

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_functions_register(db, &err), SL_OK, "%s", err.msg);
    return db;
}

/* Evaluate expr; writes kind and text (or error message) into out. */
static char eval(sqlite3 *db, const char *expr, char *out, size_t size)
{
    char sql[4096];
    snprintf(sql, sizeof(sql), "SELECT %s", expr);
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, size, "%s", sqlite3_errmsg(db));
        return 'e';
    }
    char kind = 'e';
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        switch (sqlite3_column_type(st, 0)) {
        case SQLITE_INTEGER:
            kind = 'i';
            break;
        case SQLITE_FLOAT:
            kind = 'r';
            break;
        case SQLITE_TEXT:
            kind = 't';
            break;
        case SQLITE_BLOB:
            kind = 'b';
            break;
        default:
            kind = 'n';
        }
        if (kind == 'b') {
            const unsigned char *p = sqlite3_column_blob(st, 0);
            int n = sqlite3_column_bytes(st, 0);
            size_t o = 0;
            for (int i = 0; i < n && o + 3 < size; i++)
                o += (size_t)snprintf(out + o, size - o, "%02x", p[i]);
        } else if (kind != 'n') {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            snprintf(out, size, "%s", t ? t : "");
        }
    } else {
        snprintf(out, size, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return kind;
}

static void run_cases(const fcase *cases, size_t n)
{
    sqlite3 *db = open_db();
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char got[8192];
        char kind = eval(db, cases[i].expr, got, sizeof(got));
        bool ok = kind == cases[i].kind;
        if (ok && kind == 'e')
            ok = strstr(got, cases[i].want) != NULL;
        else if (ok && kind != 'n')
            ok = strcmp(got, cases[i].want) == 0;
        if (!ok) {
            failed++;
            cr_log_error("%s: want %c [%s], got %c [%s]", cases[i].expr,
                         cases[i].kind, cases[i].want ? cases[i].want : "",
                         kind, got);
        }
    }
    sqlite3_close(db);
    cr_assert_eq(failed, 0, "%d of %zu cases failed", failed, n);
}

#define RUN(table) run_cases(table, sizeof(table) / sizeof(table[0]))

/* ---- strings ----------------------------------------------------------------
 */

static const fcase string_cases[] = {
    {"UPPER('abc')", 't', "ABC"},
    {"UPPER('straße é')", 't', "STRASSE É"},
    {"LOWER('ÀBC')", 't', "àbc"},
    {"UPPER(NULL)", 'n', NULL},
    {"LOWER(NULL)", 'n', NULL},
    {"UPPER(12)", 't', "12"},
    {"INITCAP('hello wORLD-foo')", 't', "Hello World-Foo"},
    {"INITCAP('')", 't', ""},
    {"INITCAP(NULL)", 'n', NULL},
    {"CHAR_LENGTH('héllo')", 'i', "5"},
    {"CHARACTER_LENGTH('')", 'i', "0"},
    {"CHAR_LENGTH(NULL)", 'n', NULL},
    {"POSITION('b', 'abc')", 'i', "2"},
    {"POSITION('z', 'abc')", 'i', "0"},
    {"POSITION('', 'abc')", 'i', "1"},
    {"POSITION('é', 'aéé')", 'i', "2"},
    {"POSITION(NULL, 'abc')", 'n', NULL},
    {"INSTR('abcabc', 'ca')", 'i', "3"},
    {"INSTR('abc', NULL)", 'n', NULL},
    {"LOCATE('b', 'abcb')", 'i', "2"},
    {"LOCATE('b', 'abcb', 3)", 'i', "4"},
    {"LOCATE('b', 'abcb', 5)", 'i', "0"},
    {"LOCATE('b', 'abcb', 0)", 'i', "0"},
    {"LOCATE('b', 'abcb', 'x')", 'e', "LOCATE: start must be an integer"},
    {"SUBSTRING('hello', 2)", 't', "ello"},
    {"SUBSTRING('hello', 2, 3)", 't', "ell"},
    {"SUBSTRING('hello', 0, 2)", 't', "he"},
    {"SUBSTRING('hello', -3)", 't', "llo"},
    {"SUBSTRING('hello', -3, 2)", 't', "ll"},
    {"SUBSTRING('hello', -10, 7)", 't', "he"},
    {"SUBSTRING('hello', 10)", 't', ""},
    {"SUBSTRING('hello', 2, -1)", 't', ""},
    {"SUBSTRING('héllo', 2, 2)", 't', "él"},
    {"SUBSTR('hello', 5, 100)", 't', "o"},
    {"SUBSTR(NULL, 1)", 'n', NULL},
    {"SUBSTR('abc', NULL)", 'n', NULL},
    {"SUBSTR('abc', 'x')", 'e', "SUBSTR: start must be an integer"},
    {"SUBSTRING('abc', 9223372036854775807, 9223372036854775807)", 't', ""},
    {"SUBSTRING('abc', -9223372036854775807, 2)", 't', ""},
    {"\"LEFT\"('hello', 2)", 't', "he"},
    {"\"LEFT\"('hello', -1)", 't', ""},
    {"\"LEFT\"('hello', 99)", 't', "hello"},
    {"\"RIGHT\"('hello', 2)", 't', "lo"},
    {"\"RIGHT\"('héllo', 4)", 't', "éllo"},
    {"\"RIGHT\"('hello', 0)", 't', ""},
    {"\"RIGHT\"(NULL, 1)", 'n', NULL},
    {"OVERLAY('abcdef', 'XY', 2)", 't', "aXYdef"},
    {"OVERLAY('abcdef', 'XY', 2, 0)", 't', "aXYbcdef"},
    {"OVERLAY('abcdef', 'XY', 5, 9)", 't', "abcdXY"},
    {"REPLACE('aXbXc', 'X', '--')", 't', "a--b--c"},
    {"REPLACE('abc', '', 'x')", 't', "abc"},
    {"REPLACE('abc', 'b', '')", 't', "ac"},
    {"REPLACE(NULL, 'b', '')", 'n', NULL},
    {"CONCAT('a', 'b', 'c')", 't', "abc"},
    {"CONCAT('a', NULL)", 'n', NULL},
    {"CONCAT('a', 1, 2.5)", 't', "a12.5"},
    {"CONCAT_WS('-', 'a', NULL, 'c')", 't', "a-c"},
    {"CONCAT_WS(NULL, 'a')", 'n', NULL},
    {"CONCAT_WS(',')", 't', ""},
    {"LPAD('hi', 5, 'ab')", 't', "abahi"},
    {"LPAD('hello', 2, 'x')", 't', "he"},
    {"LPAD('hi', -1, 'x')", 'n', NULL},
    {"LPAD('hi', 4, '')", 'n', NULL},
    {"LPAD('hi', 2, '')", 't', "hi"},
    {"RPAD('hi', 5, 'ab')", 't', "hiaba"},
    {"RPAD('hé', 3, 'é')", 't', "héé"},
    {"RPAD('hi', 3000000000, 'x')", 'e', "RPAD: length 3000000000"},
    {"RPAD(NULL, 3, 'x')", 'n', NULL},
    {"REPEAT('ab', 3)", 't', "ababab"},
    {"REPEAT('ab', 0)", 't', ""},
    {"REPEAT('ab', -2)", 't', ""},
    {"REPEAT('ab', 9223372036854775807)", 'e', "REPEAT: result longer"},
    {"REPEAT(NULL, 2)", 'n', NULL},
    {"REVERSE('abc')", 't', "cba"},
    {"REVERSE('aéb')", 't', "béa"},
    {"REVERSE('')", 't', ""},
    {"REVERSE(NULL)", 'n', NULL},
    {"TRIM('  a b  ')", 't', "a b"},
    {"TRIM('xxaxx', 'x')", 't', "a"},
    {"TRIM('abcba', 'ab')", 't', "c"},
    {"LTRIM('  a  ')", 't', "a  "},
    {"RTRIM('  a  ')", 't', "  a"},
    {"RTRIM('aéé', 'é')", 't', "a"},
    {"BTRIM('--x--', '-')", 't', "x"},
    {"TRIM(NULL)", 'n', NULL},
    {"TRIM('a', NULL)", 'n', NULL},
    {"SPLIT_INDEX('a,b,c', ',', 1)", 't', "b"},
    {"SPLIT_INDEX('a,b,c', ',', 0)", 't', "a"},
    {"SPLIT_INDEX('a,b,c', ',', 3)", 'n', NULL},
    {"SPLIT_INDEX('a,b,c', ',', -1)", 'n', NULL},
    {"SPLIT_INDEX('a::b', '::', 1)", 't', "b"},
    {"SPLIT_INDEX('a,,c', ',', 1)", 't', ""},
    {"SPLIT_INDEX('abc', '', 0)", 't', "abc"},
    {"SPLIT_INDEX(NULL, ',', 0)", 'n', NULL},
    {"ASCII('A')", 'i', "65"},
    {"ASCII('')", 'i', "0"},
    {"ASCII(NULL)", 'n', NULL},
    {"CHR(97)", 't', "a"},
    {"CHR(353)", 't', "a"},
    {"CHR(-1)", 't', ""},
    {"CHR(233)", 't', "é"},
    {"CHR(NULL)", 'n', NULL},
    {"STR_TO_MAP('a=1,b=2')", 't', "{\"a\":\"1\",\"b\":\"2\"}"},
    {"STR_TO_MAP('a:1;b', ';', ':')", 't', "{\"a\":\"1\",\"b\":null}"},
    {"STR_TO_MAP('')", 't', "{}"},
    {"STR_TO_MAP('a=1', '', '=')", 'e', "STR_TO_MAP: delimiters"},
    {"STR_TO_MAP(NULL)", 'n', NULL},
    {"PARSE_URL('http://user@example.com:8080/p/a.html?k=v&x=1#frag', "
     "'HOST')",
     't', "example.com"},
    {"PARSE_URL('http://example.com/p/a.html?k=v&x=1#frag', 'PATH')", 't',
     "/p/a.html"},
    {"PARSE_URL('http://example.com/p?k=v&x=1#frag', 'QUERY')", 't', "k=v&x=1"},
    {"PARSE_URL('http://example.com/p?k=v&x=1', 'QUERY', 'x')", 't', "1"},
    {"PARSE_URL('http://example.com/p?k=v&x=1', 'QUERY', 'y')", 'n', NULL},
    {"PARSE_URL('http://example.com/p?k=v#frag', 'REF')", 't', "frag"},
    {"PARSE_URL('https://example.com/p', 'PROTOCOL')", 't', "https"},
    {"PARSE_URL('http://example.com/p?q=1', 'FILE')", 't', "/p?q=1"},
    {"PARSE_URL('http://u:pw@example.com:81/p', 'AUTHORITY')", 't',
     "u:pw@example.com:81"},
    {"PARSE_URL('http://u:pw@example.com/p', 'USERINFO')", 't', "u:pw"},
    {"PARSE_URL('not a url', 'HOST')", 'n', NULL},
    {"PARSE_URL('http://example.com', 'PORTX')", 'e',
     "PARSE_URL: unknown part 'PORTX'"},
    {"PARSE_URL(NULL, 'HOST')", 'n', NULL},
    {"URL_ENCODE('a b&c=d/é')", 't', "a+b%26c%3Dd%2F%C3%A9"},
    {"URL_DECODE('a+b%26c%3Dd%2F%C3%A9')", 't', "a b&c=d/é"},
    {"URL_DECODE('bad%2')", 'n', NULL},
    {"URL_DECODE('bad%zz')", 'n', NULL},
    {"URL_ENCODE(NULL)", 'n', NULL},
    {"REGEXP('abc123', '[0-9]+')", 'i', "1"},
    {"REGEXP('abc', '^b')", 'i', "0"},
    {"REGEXP('abc', '(?i)ABC')", 'i', "1"},
    {"REGEXP('foo', '(')", 'e', "REGEXP: invalid regular expression '('"},
    {"REGEXP(NULL, 'a')", 'n', NULL},
    {"REGEXP('a', NULL)", 'n', NULL},
    {"REGEXP_REPLACE('foobar', 'o+', 'X')", 't', "fXbar"},
    {"REGEXP_REPLACE('2024-01-02', '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1')", 't',
     "02/01/2024"},
    {"REGEXP_REPLACE('abc', 'x*', '-')", 't', "-a-b-c-"},
    {"REGEXP_REPLACE('abc', 'b*', '-')", 't', "-a--c-"},
    {"REGEXP_REPLACE('a.b', '\\.', '\\$')", 't', "a$b"},
    {"REGEXP_REPLACE('ab', '(?<x>a)', '${x}${x}')", 't', "aab"},
    {"REGEXP_REPLACE('ab', 'a', '$2')", 'e', "refers to group 2"},
    {"REGEXP_REPLACE('ab', 'a', '$')", 'e', "must be followed"},
    {"REGEXP_REPLACE('héllo', 'é', 'e')", 't', "hello"},
    {"REGEXP_REPLACE(NULL, 'a', 'b')", 'n', NULL},
    {"REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)", 't', "bar"},
    {"REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 1)", 't', "the"},
    {"REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)')", 't', "foothebar"},
    {"REGEXP_EXTRACT('foothebar', 'x(y)', 1)", 'n', NULL},
    {"REGEXP_EXTRACT('ab', 'a(x)?b', 1)", 'n', NULL},
    {"REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 3)", 'e',
     "group index 3 out of range"},
    {"REGEXP_EXTRACT(NULL, 'a')", 'n', NULL},
    {"REGEXP_EXTRACT_ALL('a1b22c333', '[0-9]+')", 't',
     "[\"1\",\"22\",\"333\"]"},
    {"REGEXP_EXTRACT_ALL('k1=v1;k2=v2', '(\\w+)=(\\w+)', 2)", 't',
     "[\"v1\",\"v2\"]"},
    {"REGEXP_EXTRACT_ALL('abc', 'x')", 't', "[]"},
    {"REGEXP_COUNT('banana', 'an')", 'i', "2"},
    {"REGEXP_COUNT('banana', 'x')", 'i', "0"},
    {"REGEXP_INSTR('héllo', 'l+')", 'i', "3"},
    {"REGEXP_INSTR('hello', 'z')", 'i', "0"},
    {"REGEXP_SUBSTR('hello world', 'w\\w+')", 't', "world"},
    {"REGEXP_SUBSTR('hello', 'z')", 'n', NULL},
    {"REGEXP('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '^(a+)+$')", 'e',
     "REGEXP: regular expression failed: match limit exceeded"},
};

Test(functions, strings)
{
    RUN(string_cases);
}

/* ---- digests and encodings ---------------------------------------------- */

static const fcase hash_cases[] = {
    {"MD5('')", 't', "d41d8cd98f00b204e9800998ecf8427e"},
    {"MD5('abc')", 't', "900150983cd24fb0d6963f7d28e17f72"},
    {"MD5('The quick brown fox jumps over the lazy dog')", 't',
     "9e107d9d372bb6826bd81d3542a419d6"},
    {"MD5(NULL)", 'n', NULL},
    {"SHA1('abc')", 't', "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"SHA1('')", 't', "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"SHA1(NULL)", 'n', NULL},
    {"SHA256('abc')", 't',
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"SHA256('')", 't',
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"SHA256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')", 't',
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"SHA256(NULL)", 'n', NULL},
    {"SHA224('abc')", 't',
     "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
    {"SHA2('abc', 256)", 't',
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"SHA2('abc', 512)", 'e', "SHA2: hash length must be 224 or 256"},
    {"MD5(x'00ff')", 't', "d07d34efac6328007ad67c7e0a985e00"},
    {"TO_BASE64('hello world')", 't', "aGVsbG8gd29ybGQ="},
    {"TO_BASE64('')", 't', ""},
    {"TO_BASE64('ab')", 't', "YWI="},
    {"TO_BASE64(NULL)", 'n', NULL},
    {"FROM_BASE64('aGVsbG8gd29ybGQ=')", 't', "hello world"},
    {"FROM_BASE64('YWI=')", 't', "ab"},
    {"FROM_BASE64('a$b')", 'e', "FROM_BASE64: invalid base64 character"},
    {"FROM_BASE64(NULL)", 'n', NULL},
};

Test(functions, hashes)
{
    RUN(hash_cases);
}

/* ---- math ---------------------------------------------------------------- */

static const fcase math_cases[] = {
    {"ABS(-3)", 'i', "3"},
    {"ABS(-3.5)", 'r', "3.5"},
    {"ABS('-2')", 'i', "2"},
    {"ABS(NULL)", 'n', NULL},
    {"ABS('x')", 'e', "ABS: argument must be a number, got 'x'"},
    {"MOD(7, 3)", 'i', "1"},
    {"MOD(-7, 3)", 'i', "-1"},
    {"MOD(7, -3)", 'i', "1"},
    {"MOD(7.5, 2)", 'r', "1.5"},
    {"MOD(7, 0)", 'e', "MOD: division by zero"},
    {"MOD(-9223372036854775808, -1)", 'i', "0"},
    {"MOD(NULL, 2)", 'n', NULL},
    {"POWER(2, 10)", 'r', "1024.0"},
    {"POWER(2, -1)", 'r', "0.5"},
    {"POWER(NULL, 2)", 'n', NULL},
    {"SQRT(16)", 'r', "4.0"},
    {"SQRT(-1)", 'n', NULL},
    {"EXP(0)", 'r', "1.0"},
    {"LN(1)", 'r', "0.0"},
    {"LN(E())", 'r', "1.0"},
    {"LOG10(1000)", 'r', "3.0"},
    {"LOG2(8)", 'r', "3.0"},
    {"LOG(E())", 'r', "1.0"},
    {"LOG(2, 8)", 'r', "3.0"},
    {"LOG(10, 100)", 'r', "2.0"},
    {"LOG(NULL)", 'n', NULL},
    {"CEIL(1.2)", 'r', "2.0"},
    {"CEIL(-1.2)", 'r', "-1.0"},
    {"CEIL(5)", 'i', "5"},
    {"CEILING(0.1)", 'r', "1.0"},
    {"FLOOR(1.8)", 'r', "1.0"},
    {"FLOOR(-1.2)", 'r', "-2.0"},
    {"FLOOR(7)", 'i', "7"},
    {"FLOOR(NULL)", 'n', NULL},
    {"ROUND(2.5)", 'r', "3.0"},
    {"ROUND(-2.5)", 'r', "-3.0"},
    {"ROUND(2.675, 2)", 'r', "2.68"},
    {"ROUND(1.005, 2)", 'r', "1.01"},
    {"ROUND(3.14159, 3)", 'r', "3.142"},
    {"ROUND(1234.5678, -2)", 'r', "1200.0"},
    {"ROUND(1250, -2)", 'i', "1300"},
    {"ROUND(-1250, -2)", 'i', "-1300"},
    {"ROUND(1249, -2)", 'i', "1200"},
    {"ROUND(17, 2)", 'i', "17"},
    {"ROUND(0.5)", 'r', "1.0"},
    {"ROUND(9.995, 2)", 'r', "10.0"},
    {"ROUND(0.0001234, 5)", 'r', "0.00012"},
    {"ROUND(0.4, 0)", 'r', "0.0"},
    {"ROUND(1e300, 2)", 'r', "1.0e+300"},
    {"ROUND(NULL, 2)", 'n', NULL},
    {"ROUND(1.5, NULL)", 'n', NULL},
    {"ROUND(1.5, 'x')", 'e', "ROUND: decimal places must be an integer"},
    {"TRUNCATE(2.679, 2)", 'r', "2.67"},
    {"TRUNCATE(-2.679, 2)", 'r', "-2.67"},
    {"TRUNCATE(2.7)", 'r', "2.0"},
    {"TRUNCATE(1299, -2)", 'i', "1200"},
    {"SIGN(-5)", 'i', "-1"},
    {"SIGN(0)", 'i', "0"},
    {"SIGN(2.5)", 'r', "1.0"},
    {"SIGN(NULL)", 'n', NULL},
    {"PI()", 'r', "3.14159265358979"},
    {"E()", 'r', "2.71828182845905"},
    {"RAND() >= 0 AND RAND() < 1", 'i', "1"},
    {"RAND(42) = RAND(42)", 'i', "1"},
    {"RAND(NULL)", 'n', NULL},
    {"RAND_INTEGER(10) BETWEEN 0 AND 9", 'i', "1"},
    {"RAND_INTEGER(7, 10) BETWEEN 0 AND 9", 'i', "1"},
    {"RAND_INTEGER(0)", 'e', "RAND_INTEGER: bound must be positive"},
    {"RAND_INTEGER(NULL)", 'n', NULL},
    {"LENGTH(UUID())", 'i', "36"},
    {"SUBSTR(UUID(), 15, 1)", 't', "4"},
    {"UUID() <> UUID()", 'i', "1"},
    {"SIN(0)", 'r', "0.0"},
    {"COS(0)", 'r', "1.0"},
    {"TAN(0)", 'r', "0.0"},
    {"COT(1) > 0.64 AND COT(1) < 0.65", 'i', "1"},
    {"ASIN(1) = PI() / 2", 'i', "1"},
    {"ACOS(1)", 'r', "0.0"},
    {"ATAN(0)", 'r', "0.0"},
    {"ATAN2(1, 1) = PI() / 4", 'i', "1"},
    {"SINH(0)", 'r', "0.0"},
    {"COSH(0)", 'r', "1.0"},
    {"TANH(0)", 'r', "0.0"},
    {"DEGREES(PI())", 'r', "180.0"},
    {"RADIANS(180) = PI()", 'i', "1"},
    {"SIN(NULL)", 'n', NULL},
    {"SIN('abc')", 'e', "SIN: argument must be a number"},
    {"BIN(12)", 't', "1100"},
    {"BIN(0)", 't', "0"},
    {"BIN(-1)", 't',
     "1111111111111111111111111111111111111111111111111111111111111111"},
    {"BIN(NULL)", 'n', NULL},
    {"HEX(255)", 't', "FF"},
    {"HEX(-1)", 't', "FFFFFFFFFFFFFFFF"},
    {"HEX('hello world')", 't', "68656C6C6F20776F726C64"},
    {"HEX(NULL)", 'n', NULL},
};

Test(functions, math)
{
    RUN(math_cases);
}

/* ---- conditional -----------------------------------------------------------
 */

static const fcase cond_cases[] = {
    {"IF(1 = 1, 'a', 'b')", 't', "a"},   {"IF(1 = 2, 'a', 'b')", 't', "b"},
    {"IF(NULL, 'a', 'b')", 't', "b"},    {"IF(1, NULL, 2)", 'n', NULL},
    {"IF(0, 1, 2.5)", 'r', "2.5"},       {"COALESCE(NULL, 2, 3)", 'i', "2"},
    {"COALESCE(NULL, NULL)", 'n', NULL}, {"IFNULL(NULL, 'x')", 't', "x"},
    {"IFNULL('a', 'x')", 't', "a"},      {"NULLIF(1, 1)", 'n', NULL},
    {"NULLIF(1, 2)", 'i', "1"},          {"GREATEST(1, 5, 3)", 'i', "5"},
    {"GREATEST(1, 5.5, 3)", 'r', "5.5"}, {"GREATEST('a', 'c', 'b')", 't', "c"},
    {"GREATEST(1, NULL, 3)", 'n', NULL}, {"GREATEST(7)", 'i', "7"},
    {"LEAST(4, 2, 8)", 'i', "2"},        {"LEAST('b', 'a')", 't', "a"},
    {"LEAST(1, NULL)", 'n', NULL},       {"IS_ALPHA('abcÉ')", 'i', "1"},
    {"IS_ALPHA('ab1')", 'i', "0"},       {"IS_ALPHA('')", 'i', "0"},
    {"IS_ALPHA(NULL)", 'i', "0"},        {"IS_DIGIT('0123')", 'i', "1"},
    {"IS_DIGIT('12a')", 'i', "0"},       {"IS_DIGIT('')", 'i', "0"},
    {"IS_DIGIT(NULL)", 'i', "0"},        {"IS_DECIMAL('12.5')", 'i', "1"},
    {"IS_DECIMAL('-1e3')", 'i', "1"},    {"IS_DECIMAL('abc')", 'i', "0"},
    {"IS_DECIMAL('nan')", 'i', "0"},     {"IS_DECIMAL(3)", 'i', "1"},
    {"IS_DECIMAL(NULL)", 'i', "0"},
};

Test(functions, conditional)
{
    RUN(cond_cases);
}

/* ---- temporal
 * ---------------------------------------------------------------- */

#define TS   "'2024-01-02 03:04:05.678'"
#define F(x) "DATE_FORMAT(" x ", 'yyyy-MM-dd HH:mm:ss.SSS')"

static const fcase time_cases[] = {
    {"NOW() > 1700000000000", 'i', "1"},
    {"sl_current_timestamp() > 1700000000000", 'i', "1"},
    {"LOCALTIMESTAMP() > 1700000000000", 'i', "1"},
    {"CURRENT_ROW_TIMESTAMP() > 1700000000000", 'i', "1"},
    {"PROCTIME() > 1700000000000", 'i', "1"},
    {"sl_current_date() > 19000", 'i', "1"},
    {"sl_current_time() BETWEEN 0 AND 86399999", 'i', "1"},
    {"LOCALTIME() BETWEEN 0 AND 86399999", 'i', "1"},
    {"sl_current_time() % 1000", 'i', "0"},
    {"DATE_FORMAT(" TS ", 'yyyy/MM/dd HH:mm:ss.SSS')", 't',
     "2024/01/02 03:04:05.678"},
    {"DATE_FORMAT(1704164645678, 'yyyy-MM-dd HH:mm:ss')", 't',
     "2024-01-02 03:04:05"},
    {"DATE_FORMAT(" TS ", 'EEE, d MMM yyyy h:mm a')", 't',
     "Tue, 2 Jan 2024 3:04 AM"},
    {"DATE_FORMAT(" TS ", 'EEEE MMMM yy D')", 't', "Tuesday January 24 2"},
    {"DATE_FORMAT('2024-06-30 15:00:00', 'hh a, kk, KK')", 't',
     "03 PM, 15, 03"},
    {"DATE_FORMAT(" TS ", '''at'' HH''h''')", 't', "at 03h"},
    {"DATE_FORMAT(" TS ", 'yyyy-MM-dd''T''HH:mm:ssXXX')", 't',
     "2024-01-02T03:04:05Z"},
    {"DATE_FORMAT(" TS ", 'S SS SSSS')", 't', "6 67 6780"},
    {"DATE_FORMAT(0, 'yyyy-MM-dd')", 't', "1970-01-01"},
    {"DATE_FORMAT(-1, 'yyyy-MM-dd HH:mm:ss.SSS')", 't',
     "1969-12-31 23:59:59.999"},
    {"DATE_FORMAT(" TS ", 'q')", 'e', "unknown pattern letter 'q'"},
    {"DATE_FORMAT('junk', 'yyyy')", 'e',
     "DATE_FORMAT: timestamp must be a TIMESTAMP, got 'junk'"},
    {"DATE_FORMAT(NULL, 'yyyy')", 'n', NULL},
    {"DATE_FORMAT(0, NULL)", 'n', NULL},
    {"TO_TIMESTAMP('2024-01-02 03:04:05')", 'i', "1704164645000"},
    {"TO_TIMESTAMP('2024-01-02 03:04:05.678')", 'i', "1704164645678"},
    {"TO_TIMESTAMP('02/01/2024 03:04', 'dd/MM/yyyy HH:mm')", 'i',
     "1704164640000"},
    {"TO_TIMESTAMP('20240102', 'yyyyMMdd')", 'i', "1704153600000"},
    {"TO_TIMESTAMP('20240102030405', 'yyyyMMddHHmmss')", 'i', "1704164645000"},
    {"TO_TIMESTAMP('2024-01-02 03:04:05.12', 'yyyy-MM-dd HH:mm:ss.SS')", 'i',
     "1704164645120"},
    {"TO_TIMESTAMP('2024-01-02T03:04:05Z', 'yyyy-MM-dd''T''HH:mm:ssX')", 'i',
     "1704164645000"},
    {"TO_TIMESTAMP('2024-01-02T03:04:05+01:00', "
     "'yyyy-MM-dd''T''HH:mm:ssXXX')",
     'i', "1704161045000"},
    {"TO_TIMESTAMP('Jan 2, 2024 3:04 PM', 'MMM d, yyyy h:mm a')", 'i',
     "1704207840000"},
    {"TO_TIMESTAMP('2024-02-30', 'yyyy-MM-dd')", 'n', NULL},
    {"TO_TIMESTAMP('2024-01-02 25:00:00')", 'n', NULL},
    {"TO_TIMESTAMP('bad')", 'n', NULL},
    {"TO_TIMESTAMP('2024-01-02 x', 'yyyy-MM-dd')", 'n', NULL},
    {"TO_TIMESTAMP('2024', 'yyyy qq')", 'e', "unknown pattern letter 'q'"},
    {"TO_TIMESTAMP(NULL)", 'n', NULL},
    {"TO_DATE('2024-01-02')", 'i', "19724"},
    {"TO_DATE('02.01.2024', 'dd.MM.yyyy')", 'i', "19724"},
    {"TO_DATE('1969-12-31')", 'i', "-1"},
    {"TO_DATE('nope')", 'n', NULL},
    {"TO_DATE(NULL)", 'n', NULL},
    {"TO_TIMESTAMP_LTZ(1704164645, 0)", 'i', "1704164645000"},
    {"TO_TIMESTAMP_LTZ(1704164645678, 3)", 'i', "1704164645678"},
    {"TO_TIMESTAMP_LTZ(1704164645678)", 'i', "1704164645678"},
    {"TO_TIMESTAMP_LTZ(1.5, 0)", 'i', "1500"},
    {"TO_TIMESTAMP_LTZ(1, 6)", 'e', "precision must be 0 or 3"},
    {"TO_TIMESTAMP_LTZ(1e300, 0)", 'e', "out of range"},
    {"TO_TIMESTAMP_LTZ('2024-01-02 03:04:05')", 'i', "1704164645000"},
    {"TO_TIMESTAMP_LTZ(NULL, 0)", 'n', NULL},
    {"UNIX_TIMESTAMP() > 1700000000", 'i', "1"},
    {"UNIX_TIMESTAMP('2024-01-02 03:04:05')", 'i', "1704164645"},
    {"UNIX_TIMESTAMP('02/01/2024', 'dd/MM/yyyy')", 'i', "1704153600"},
    {"UNIX_TIMESTAMP('1969-12-31 23:59:59')", 'i', "-1"},
    {"UNIX_TIMESTAMP('garbage')", 'n', NULL},
    {"UNIX_TIMESTAMP(NULL)", 'n', NULL},
    {"FROM_UNIXTIME(1704164645)", 't', "2024-01-02 03:04:05"},
    {"FROM_UNIXTIME(0, 'yyyy')", 't', "1970"},
    {"FROM_UNIXTIME(9223372036854775807)", 'e', "out of range"},
    {"FROM_UNIXTIME(NULL)", 'n', NULL},
    {"EXTRACT('YEAR', " TS ")", 'i', "2024"},
    {"EXTRACT('QUARTER', " TS ")", 'i', "1"},
    {"EXTRACT('MONTH', " TS ")", 'i', "1"},
    {"EXTRACT('WEEK', " TS ")", 'i', "1"},
    {"EXTRACT('DAY', " TS ")", 'i', "2"},
    {"EXTRACT('DOY', " TS ")", 'i', "2"},
    {"EXTRACT('DOW', " TS ")", 'i', "3"},
    {"EXTRACT('ISODOW', " TS ")", 'i', "2"},
    {"EXTRACT('HOUR', " TS ")", 'i', "3"},
    {"EXTRACT('MINUTE', " TS ")", 'i', "4"},
    {"EXTRACT('SECOND', " TS ")", 'i', "5"},
    {"EXTRACT('MILLISECOND', " TS ")", 'i', "5678"},
    {"EXTRACT('MICROSECOND', " TS ")", 'i', "5678000"},
    {"EXTRACT('EPOCH', " TS ")", 'i', "1704164645"},
    {"EXTRACT('year', 1704164645678)", 'i', "2024"},
    {"EXTRACT('WEEK', '2021-01-03')", 'i', "53"},
    {"EXTRACT('ISOYEAR', '2021-01-03')", 'i', "2020"},
    {"EXTRACT('WEEK', '2024-12-30')", 'i', "1"},
    {"EXTRACT('DOW', '2024-01-07')", 'i', "1"},
    {"EXTRACT('CENTURY', '2000-06-01')", 'i', "20"},
    {"EXTRACT('CENTURY', '2001-01-01')", 'i', "21"},
    {"EXTRACT('MILLENNIUM', '2001-01-01')", 'i', "3"},
    {"EXTRACT('DECADE', '2024-01-01')", 'i', "202"},
    {"EXTRACT('YEAR', -1)", 'i', "1969"},
    {"EXTRACT('DAY', '2024-02-29')", 'i', "29"},
    {"EXTRACT('FOO', 0)", 'e', "EXTRACT: unknown time unit 'FOO'"},
    {"EXTRACT('YEAR', NULL)", 'n', NULL},
    {"EXTRACT(NULL, 0)", 'n', NULL},
    {"YEAR(" TS ")", 'i', "2024"},
    {"QUARTER('2024-08-01')", 'i', "3"},
    {"MONTH(" TS ")", 'i', "1"},
    {"WEEK('2024-03-01')", 'i', "9"},
    {"DAYOFYEAR('2024-12-31')", 'i', "366"},
    {"DAYOFMONTH(" TS ")", 'i', "2"},
    {"DAYOFWEEK('2024-01-06')", 'i', "7"},
    {"HOUR(" TS ")", 'i', "3"},
    {"MINUTE(" TS ")", 'i', "4"},
    {"SECOND(" TS ")", 'i', "5"},
    {"HOUR(NULL)", 'n', NULL},
    {"HOUR('x')", 'e', "HOUR: timestamp must be a TIMESTAMP"},
    {F("TIME_FLOOR(" TS ", 'HOUR')"), 't', "2024-01-02 03:00:00.000"},
    {F("TIME_FLOOR(" TS ", 'DAY')"), 't', "2024-01-02 00:00:00.000"},
    {F("TIME_FLOOR(" TS ", 'MINUTE')"), 't', "2024-01-02 03:04:00.000"},
    {F("TIME_FLOOR(" TS ", 'SECOND')"), 't', "2024-01-02 03:04:05.000"},
    {F("TIME_FLOOR(" TS ", 'WEEK')"), 't', "2023-12-31 00:00:00.000"},
    {F("TIME_FLOOR('2024-05-17 10:00:00', 'MONTH')"), 't',
     "2024-05-01 00:00:00.000"},
    {F("TIME_FLOOR('2024-05-17 10:00:00', 'QUARTER')"), 't',
     "2024-04-01 00:00:00.000"},
    {F("TIME_FLOOR('2024-05-17 10:00:00', 'YEAR')"), 't',
     "2024-01-01 00:00:00.000"},
    {F("TIME_FLOOR('1969-12-31 23:30:00', 'HOUR')"), 't',
     "1969-12-31 23:00:00.000"},
    {F("TIME_CEIL(" TS ", 'HOUR')"), 't', "2024-01-02 04:00:00.000"},
    {F("TIME_CEIL('2024-01-02 04:00:00', 'HOUR')"), 't',
     "2024-01-02 04:00:00.000"},
    {F("TIME_CEIL('2024-01-31 10:00:00', 'MONTH')"), 't',
     "2024-02-01 00:00:00.000"},
    {F("TIME_CEIL('2024-01-31 10:00:00', 'DAY')"), 't',
     "2024-02-01 00:00:00.000"},
    {F("TIME_CEIL('2024-11-15 10:00:00', 'QUARTER')"), 't',
     "2025-01-01 00:00:00.000"},
    {"TIME_FLOOR(" TS ", 'FOO')", 'e', "TIME_FLOOR: unknown time unit"},
    {"TIME_FLOOR(" TS ", 'DOW')", 'e', "TIME_FLOOR: cannot round"},
    {"TIME_FLOOR(NULL, 'DAY')", 'n', NULL},
    {F("TIMESTAMPADD('DAY', 1, '2024-01-31 10:00:00')"), 't',
     "2024-02-01 10:00:00.000"},
    {F("TIMESTAMPADD('MONTH', 1, '2024-01-31 10:00:00')"), 't',
     "2024-02-29 10:00:00.000"},
    {F("TIMESTAMPADD('YEAR', 1, '2024-02-29 00:00:00')"), 't',
     "2025-02-28 00:00:00.000"},
    {F("TIMESTAMPADD('QUARTER', 1, '2024-11-30 00:00:00')"), 't',
     "2025-02-28 00:00:00.000"},
    {F("TIMESTAMPADD('MONTH', -13, '2024-01-15 00:00:00')"), 't',
     "2022-12-15 00:00:00.000"},
    {F("TIMESTAMPADD('HOUR', -5, '2024-01-01 02:00:00')"), 't',
     "2023-12-31 21:00:00.000"},
    {F("TIMESTAMPADD('WEEK', 1, '2024-01-01 00:00:00')"), 't',
     "2024-01-08 00:00:00.000"},
    {F("TIMESTAMPADD('MINUTE', 90, '2024-01-01 00:00:00')"), 't',
     "2024-01-01 01:30:00.000"},
    {F("TIMESTAMPADD('SECOND', 1, '2024-01-01 00:00:00')"), 't',
     "2024-01-01 00:00:01.000"},
    {F("TIMESTAMPADD('MILLISECOND', 5, '2024-01-01 00:00:00')"), 't',
     "2024-01-01 00:00:00.005"},
    {"TIMESTAMPADD('DAY', 9223372036854775807, 0)", 'e',
     "TIMESTAMPADD: result out of range"},
    {"TIMESTAMPADD('MONTH', 9223372036854775807, 0)", 'e',
     "TIMESTAMPADD: result out of range"},
    {"TIMESTAMPADD('DOW', 1, 0)", 'e', "TIMESTAMPADD: unit must be"},
    {"TIMESTAMPADD('DAY', NULL, 0)", 'n', NULL},
    {"TIMESTAMPADD('DAY', 1, NULL)", 'n', NULL},
    {"TIMESTAMPDIFF('DAY', '2024-01-01', '2024-03-01')", 'i', "60"},
    {"TIMESTAMPDIFF('MONTH', '2024-01-31', '2024-02-29')", 'i', "0"},
    {"TIMESTAMPDIFF('MONTH', '2024-01-15', '2024-03-15')", 'i', "2"},
    {"TIMESTAMPDIFF('MONTH', '2024-03-15', '2024-01-20')", 'i', "-1"},
    {"TIMESTAMPDIFF('YEAR', '2020-02-29', '2024-02-28')", 'i', "3"},
    {"TIMESTAMPDIFF('QUARTER', '2024-01-01', '2024-12-31')", 'i', "3"},
    {"TIMESTAMPDIFF('HOUR', '2024-01-01 10:00:00', '2024-01-01 07:30:00')", 'i',
     "-2"},
    {"TIMESTAMPDIFF('SECOND', '2024-01-01 00:00:00', '2024-01-01 00:01:00')",
     'i', "60"},
    {"TIMESTAMPDIFF('WEEK', '2024-01-01', '2024-01-20')", 'i', "2"},
    {"TIMESTAMPDIFF('MILLISECOND', 0, 1500)", 'i', "1500"},
    {"TIMESTAMPDIFF('DOW', 0, 1)", 'e', "TIMESTAMPDIFF: unit must be"},
    {"TIMESTAMPDIFF('DAY', NULL, 1)", 'n', NULL},
    {"CONVERT_TZ('2024-01-02 03:04:05', 'UTC', 'Asia/Shanghai')", 't',
     "2024-01-02 11:04:05"},
    {"CONVERT_TZ('2024-07-01 12:00:00', 'Europe/Berlin', 'UTC')", 't',
     "2024-07-01 10:00:00"},
    {"CONVERT_TZ('2024-01-01 12:00:00', 'America/New_York', 'UTC')", 't',
     "2024-01-01 17:00:00"},
    {"CONVERT_TZ('2050-07-01 12:00:00', 'America/New_York', 'UTC')", 't',
     "2050-07-01 16:00:00"},
    {"CONVERT_TZ('2050-01-01 12:00:00', 'America/New_York', 'UTC')", 't',
     "2050-01-01 17:00:00"},
    {"CONVERT_TZ('2024-01-01 12:00:00', '+08:00', 'GMT-01:00')", 't',
     "2024-01-01 03:00:00"},
    {"CONVERT_TZ('2024-03-31 12:00:00', 'UTC', 'Australia/Sydney')", 't',
     "2024-03-31 23:00:00"},
    {"CONVERT_TZ('2024-01-01 00:00:00', 'Mars/Base', 'UTC')", 'e',
     "CONVERT_TZ: unknown time zone 'Mars/Base'"},
    {"CONVERT_TZ('2024-01-01 00:00:00', '../../etc/passwd', 'UTC')", 'e',
     "unknown time zone"},
    {"CONVERT_TZ('x', 'UTC', 'UTC')", 'e', "must be a TIMESTAMP"},
    {"CONVERT_TZ(NULL, 'UTC', 'UTC')", 'n', NULL},
    {F("FROM_UTC_TIMESTAMP('2024-01-02 03:04:05', 'Asia/Tokyo')"), 't',
     "2024-01-02 12:04:05.000"},
    {F("TO_UTC_TIMESTAMP('2024-01-02 12:04:05', 'Asia/Tokyo')"), 't',
     "2024-01-02 03:04:05.000"},
    {"TO_UTC_TIMESTAMP(NULL, 'UTC')", 'n', NULL},
};

Test(functions, temporal)
{
    RUN(time_cases);
}

/* ---- JSON
 * -------------------------------------------------------------------- */

static const fcase json_cases[] = {
    {"JSON_VALUE('{\"a\":{\"b\":[1,2,{\"c\":\"x\"}]}}', '$.a.b[2].c')", 't',
     "x"},
    {"JSON_VALUE('{\"a\":1}', '$.a')", 't', "1"},
    {"JSON_VALUE('{\"a\":1.5}', '$.a')", 't', "1.5"},
    {"JSON_VALUE('{\"a\":true}', '$.a')", 't', "true"},
    {"JSON_VALUE('{\"a\":null}', '$.a')", 'n', NULL},
    {"JSON_VALUE('{\"a\":{\"b\":1}}', '$.a')", 'n', NULL},
    {"JSON_VALUE('{\"a\":1}', '$.b')", 'n', NULL},
    {"JSON_VALUE('{bad json', '$.a')", 'n', NULL},
    {"JSON_VALUE('{\"a\":\"7\"}', '$.a', 'INT')", 'i', "7"},
    {"JSON_VALUE('{\"a\":7.9}', '$.a', 'BIGINT')", 'i', "7"},
    {"JSON_VALUE('{\"a\":\"x\"}', '$.a', 'INT')", 'n', NULL},
    {"JSON_VALUE('{\"a\":2}', '$.a', 'DOUBLE')", 'r', "2.0"},
    {"JSON_VALUE('{\"a\":true}', '$.a', 'BOOLEAN')", 'i', "1"},
    {"JSON_VALUE('{\"a\":\"false\"}', '$.a', 'BOOLEAN')", 'i', "0"},
    {"JSON_VALUE('{\"a\":1}', '$.a', 'STRING')", 't', "1"},
    {"JSON_VALUE('{\"a\":1}', '$.a', 'DATE')", 'e',
     "JSON_VALUE: unsupported RETURNING type 'DATE'"},
    {"JSON_VALUE('{\"a b\":1}', '$.\"a b\"')", 't', "1"},
    {"JSON_VALUE('{\"a\":[5]}', '$[''a''][0]')", 't', "5"},
    {"JSON_VALUE('{\"a\":5}', 'lax $.a')", 't', "5"},
    {"JSON_VALUE('{\"a\":5}', 'strict $.a[0]')", 'n', NULL},
    {"JSON_VALUE('{\"a\":5}', '$.a[0]')", 't', "5"},
    {"JSON_VALUE('[1,2]', '$[*]')", 'n', NULL},
    {"JSON_VALUE('\"hi\"', '$')", 't', "hi"},
    {"JSON_VALUE('{\"a\":1}', 'a')", 'e',
     "JSON_VALUE: invalid JSON path 'a': a path must start with '$'"},
    {"JSON_VALUE('{\"a\":1}', '$[x]')", 'e', "invalid JSON path"},
    {"JSON_VALUE(NULL, '$.a')", 'n', NULL},
    {"JSON_VALUE('{}', NULL)", 'n', NULL},
    {"JSON_QUERY('{\"a\":{\"b\":1}}', '$.a')", 't', "{\"b\":1}"},
    {"JSON_QUERY('{\"a\":[1,2]}', '$.a')", 't', "[1,2]"},
    {"JSON_QUERY('{\"a\":1}', '$.a')", 'n', NULL},
    {"JSON_QUERY('{\"a\":1}', '$.a', 'WITH')", 't', "[1]"},
    {"JSON_QUERY('{\"a\":[1]}', '$.a', 'WITH ARRAY WRAPPER')", 't', "[[1]]"},
    {"JSON_QUERY('{\"a\":1}', '$.a', 'CONDITIONAL')", 't', "[1]"},
    {"JSON_QUERY('{\"a\":[1,2]}', '$.a', 'CONDITIONAL')", 't', "[1,2]"},
    {"JSON_QUERY('{\"a\":[{\"b\":1},{\"b\":2}]}', '$.a[*].b')", 't', "[1,2]"},
    {"JSON_QUERY('{\"a\":{\"x\":1,\"y\":2}}', '$.a.*')", 't', "[1,2]"},
    {"JSON_QUERY('{\"x\":0.1,\"y\":\"\\n\"}', '$')", 't',
     "{\"x\":0.1,\"y\":\"\\n\"}"},
    {"JSON_QUERY('{\"a\":1}', '$', 'sometimes')", 'e',
     "JSON_QUERY: wrapper must be"},
    {"JSON_QUERY('[1', '$')", 'n', NULL},
    {"JSON_QUERY(NULL, '$')", 'n', NULL},
    {"JSON_EXISTS('{\"a\":null}', '$.a')", 'i', "1"},
    {"JSON_EXISTS('{\"a\":null}', '$.b')", 'i', "0"},
    {"JSON_EXISTS('{\"a\":[1,2]}', '$.a[1]')", 'i', "1"},
    {"JSON_EXISTS('{\"a\":[1,2]}', '$.a[2]')", 'i', "0"},
    {"JSON_EXISTS('nope', '$.a')", 'i', "0"},
    {"JSON_EXISTS(NULL, '$.a')", 'n', NULL},
    {"IS_JSON('{\"a\":1}')", 'i', "1"},
    {"IS_JSON('abc')", 'i', "0"},
    {"IS_JSON('[1]', 'ARRAY')", 'i', "1"},
    {"IS_JSON('[1]', 'OBJECT')", 'i', "0"},
    {"IS_JSON('{}', 'OBJECT')", 'i', "1"},
    {"IS_JSON('1', 'SCALAR')", 'i', "1"},
    {"IS_JSON('[1]', 'SCALAR')", 'i', "0"},
    {"IS_JSON('1', 'FOO')", 'e', "IS_JSON: kind must be"},
    {"IS_JSON(NULL)", 'i', "0"},
    {"JSON_OBJECT('a', 1, 'b', 'x', 'c', NULL)", 't',
     "{\"a\":1,\"b\":\"x\",\"c\":null}"},
    {"JSON_OBJECT()", 't', "{}"},
    {"JSON_OBJECT('a', JSON_ARRAY(1, 2))", 't', "{\"a\":[1,2]}"},
    {"JSON_OBJECT('a', JSON_OBJECT('b', 0.5))", 't', "{\"a\":{\"b\":0.5}}"},
    {"JSON_OBJECT('k', 'q\"u')", 't', "{\"k\":\"q\\\"u\"}"},
    {"JSON_OBJECT('k', '[1]')", 't', "{\"k\":\"[1]\"}"},
    {"JSON_OBJECT('a')", 'e', "JSON_OBJECT: expects key, value pairs"},
    {"JSON_OBJECT(NULL, 1)", 'e', "JSON_OBJECT: key 1 is NULL"},
    {"sl_json_object_absent('a', NULL, 'b', 2)", 't', "{\"b\":2}"},
    {"JSON_ARRAY(1, NULL, 'a')", 't', "[1,\"a\"]"},
    {"JSON_ARRAY()", 't', "[]"},
    {"JSON_ARRAY(JSON_OBJECT('a', 1), 2.5)", 't', "[{\"a\":1},2.5]"},
    {"sl_json_array_null(1, NULL)", 't', "[1,null]"},
    {"JSON_STRING(1)", 't', "1"},
    {"JSON_STRING('hi')", 't', "\"hi\""},
    {"JSON_STRING(1.5)", 't', "1.5"},
    {"JSON_STRING(JSON_ARRAY(1))", 't', "[1]"},
    {"JSON_STRING(x'0102')", 't', "\"AQI=\""},
    {"JSON_STRING(NULL)", 'n', NULL},
    {"JSON_QUOTE('a\"b')", 't', "\"a\\\"b\""},
    {"JSON_UNQUOTE('\"a\\\"b\"')", 't', "a\"b"},
    {"JSON_UNQUOTE('abc')", 't', "abc"},
    {"JSON_QUOTE(NULL)", 'n', NULL},
    {"json_extract(JSON_OBJECT('a', JSON_ARRAY(1)), '$.a[0]')", 'i', "1"},
};

Test(functions, json)
{
    RUN(json_cases);
}

/* ---- collections and vectors
 * --------------------------------------------------- */

static const fcase collection_cases[] = {
    {"CARDINALITY('[1,2,3]')", 'i', "3"},
    {"CARDINALITY('{\"a\":1}')", 'i', "1"},
    {"CARDINALITY('[]')", 'i', "0"},
    {"CARDINALITY('x')", 'e', "CARDINALITY: argument must be an ARRAY or MAP"},
    {"CARDINALITY(NULL)", 'n', NULL},
    {"ELEMENT('[7]')", 'i', "7"},
    {"ELEMENT('[\"a\"]')", 't', "a"},
    {"ELEMENT('[]')", 'n', NULL},
    {"ELEMENT('[1,2]')", 'e', "ELEMENT: the array has 2 elements"},
    {"ELEMENT(NULL)", 'n', NULL},
    {"ARRAY_CONTAINS('[1,2,3]', 2)", 'i', "1"},
    {"ARRAY_CONTAINS('[1,2,3]', 4)", 'i', "0"},
    {"ARRAY_CONTAINS('[\"a\",\"b\"]', 'b')", 'i', "1"},
    {"ARRAY_CONTAINS('[1.0]', 1)", 'i', "1"},
    {"ARRAY_CONTAINS('[1,null]', NULL)", 'i', "1"},
    {"ARRAY_CONTAINS('[1]', NULL)", 'i', "0"},
    {"ARRAY_CONTAINS('[[1,2]]', '[1,2]')", 'i', "1"},
    {"ARRAY_CONTAINS(NULL, 1)", 'n', NULL},
    {"ARRAY_CONTAINS('{}', 1)", 'e', "ARRAY_CONTAINS: argument 1 must be"},
    {"ARRAY_POSITION('[5,6,7]', 7)", 'i', "3"},
    {"ARRAY_POSITION('[5]', 1)", 'i', "0"},
    {"ARRAY_POSITION(NULL, 1)", 'n', NULL},
    {"ARRAY_DISTINCT('[1,2,1,3,2]')", 't', "[1,2,3]"},
    {"ARRAY_DISTINCT('[\"a\",\"a\",null,null]')", 't', "[\"a\",null]"},
    {"ARRAY_DISTINCT('[1, 1.0]')", 't', "[1]"},
    {"ARRAY_DISTINCT(NULL)", 'n', NULL},
    {"ARRAY_REVERSE('[1,2,3]')", 't', "[3,2,1]"},
    {"ARRAY_JOIN('[\"a\",\"b\",null,\"c\"]', ',')", 't', "a,b,c"},
    {"ARRAY_JOIN('[\"a\",null]', ',', 'NULL')", 't', "a,NULL"},
    {"ARRAY_JOIN('[1,2.5,true]', '-')", 't', "1-2.5-TRUE"},
    {"ARRAY_JOIN(NULL, ',')", 'n', NULL},
    {"sl_item('[10,20,30]', 2)", 'i', "20"},
    {"sl_item('[10,20,30]', 0)", 'n', NULL},
    {"sl_item('[10,20,30]', 4)", 'n', NULL},
    {"sl_item('[10,20,30]', -1)", 'n', NULL},
    {"sl_item('[[1,2],[3]]', 1)", 't', "[1,2]"},
    {"sl_item('[\"x\"]', 1)", 't', "x"},
    {"sl_item('[true]', 1)", 'i', "1"},
    {"sl_item('[1.5]', 1)", 'r', "1.5"},
    {"sl_item('[null]', 1)", 'n', NULL},
    {"sl_item('{}', 1)", 'e', "sl_item: argument 1 must be an ARRAY"},
    {"sl_item(NULL, 1)", 'n', NULL},
    {"sl_item('[1]', NULL)", 'n', NULL},
    {"sl_map_get('{\"a\":1,\"b\":\"x\"}', 'b')", 't', "x"},
    {"sl_map_get('{\"a\":1}', 'z')", 'n', NULL},
    {"sl_map_get('[[1,\"one\"],[2,\"two\"]]', 2)", 't', "two"},
    {"sl_map_get('{\"1\":\"x\"}', 1)", 't', "x"},
    {"sl_map_get(NULL, 'a')", 'n', NULL},
    {"sl_field('{\"a\":{\"b\":2}}', 'a')", 't', "{\"b\":2}"},
    {"sl_field(sl_field('{\"a\":{\"b\":2}}', 'a'), 'b')", 'i', "2"},
    {"sl_field('{\"a\":1}', 'b')", 'n', NULL},
    {"sl_field('[1]', 'a')", 'e', "sl_field: argument 1 must be a ROW"},
    {"sl_array(1, 'a', NULL)", 't', "[1,\"a\",null]"},
    {"sl_array()", 't', "[]"},
    {"sl_array(sl_array(1), sl_map('k', 2))", 't', "[[1],{\"k\":2}]"},
    {"sl_map('a', 1, 'b', 2)", 't', "{\"a\":1,\"b\":2}"},
    {"sl_map('a', 1, 'a', 2)", 't', "{\"a\":2}"},
    {"sl_map(1, 'x', 2, 'y')", 't', "[[1,\"x\"],[2,\"y\"]]"},
    {"sl_map(1, 'x', 1, 'z')", 't', "[[1,\"z\"]]"},
    {"sl_map('a')", 'e', "sl_map: expects key, value pairs"},
    {"MAP_KEYS('{\"a\":1,\"b\":2}')", 't', "[\"a\",\"b\"]"},
    {"MAP_VALUES('{\"a\":1,\"b\":2}')", 't', "[1,2]"},
    {"MAP_KEYS('[[1,\"x\"]]')", 't', "[1]"},
    {"MAP_KEYS(NULL)", 'n', NULL},
    {"COSINE_SIMILARITY('[1,0]', '[0,1]')", 'r', "0.0"},
    {"ROUND(COSINE_SIMILARITY('[1,2,3]', '[1,2,3]'), 6)", 'r', "1.0"},
    {"ROUND(COSINE_SIMILARITY('[1,2]', '[-1,-2]'), 6)", 'r', "-1.0"},
    {"COSINE_SIMILARITY('[0,0]', '[1,1]')", 'n', NULL},
    {"DOT_PRODUCT('[1,2,3]', '[4,5,6]')", 'r', "32.0"},
    {"DOT_PRODUCT(' [ 1 , 2 ] ', '[0.5,0.25]')", 'r', "1.0"},
    {"DOT_PRODUCT('[]', '[]')", 'r', "0.0"},
    {"L2_DISTANCE('[0,0]', '[3,4]')", 'r', "5.0"},
    {"L2_DISTANCE('[1e-3,2E2]', '[1e-3,2E2]')", 'r', "0.0"},
    {"L2_DISTANCE('[1,2]', '[1]')", 'e',
     "L2_DISTANCE: dimension mismatch (2 vs 1)"},
    {"DOT_PRODUCT('[1,\"a\"]', '[1,2]')", 'e',
     "DOT_PRODUCT: argument 1 is not an array of numbers"},
    {"COSINE_SIMILARITY('[1,2]', 'x')", 'e', "argument 2 is not an array"},
    {"COSINE_SIMILARITY(NULL, '[1]')", 'n', NULL},
};

Test(functions, collections)
{
    RUN(collection_cases);
}

/* ---- CAST / TRY_CAST
 * ------------------------------------------------------------ */

static const fcase cast_cases[] = {
    {"sl_cast('123', 'STRING', 'INT')", 'i', "123"},
    {"sl_cast(' 42 ', 'STRING', 'BIGINT')", 'i', "42"},
    {"sl_cast('abc', 'STRING', 'INT')", 'e',
     "CAST('abc' AS INT): not a valid INT"},
    {"sl_try_cast('abc', 'STRING', 'INT')", 'n', NULL},
    {"sl_cast('', 'STRING', 'INT')", 'e', "CAST('' AS INT): not a valid INT"},
    {"sl_cast('1.7', 'STRING', 'INT')", 'i', "1"},
    {"sl_cast('-1.7', 'STRING', 'INT')", 'i', "-1"},
    {"sl_cast('300', 'STRING', 'TINYINT')", 'e',
     "CAST('300' AS TINYINT): out of range for TINYINT"},
    {"sl_cast(300, 'INT', 'TINYINT')", 'e', "out of range for TINYINT"},
    {"sl_try_cast(300, 'INT', 'TINYINT')", 'n', NULL},
    {"sl_cast(127, 'INT', 'TINYINT')", 'i', "127"},
    {"sl_cast(-32768, 'INT', 'SMALLINT')", 'i', "-32768"},
    {"sl_cast(2147483648, 'BIGINT', 'INT')", 'e', "out of range for INT"},
    {"sl_cast(3.9, 'DOUBLE', 'INT')", 'i', "3"},
    {"sl_cast(-3.9, 'DOUBLE', 'BIGINT')", 'i', "-3"},
    {"sl_cast(1e30, 'DOUBLE', 'BIGINT')", 'e', "out of range for BIGINT"},
    {"sl_cast('9223372036854775808', 'STRING', 'BIGINT')", 'e',
     "out of range for BIGINT"},
    {"sl_cast('NaN', 'STRING', 'INT')", 'e', "not a valid INT"},
    {"sl_cast(1, 'BOOLEAN', 'INT')", 'i', "1"},
    {"sl_cast(1704164645678, 'TIMESTAMP_LTZ(3)', 'BIGINT')", 'i', "1704164645"},
    {"sl_cast(19724, 'DATE', 'INT')", 'e', "cannot cast DATE"},
    {"sl_cast('TRUE', 'STRING', 'BOOLEAN')", 'i', "1"},
    {"sl_cast('false', 'STRING', 'BOOLEAN')", 'i', "0"},
    {"sl_cast(' yes ', 'STRING', 'BOOLEAN')", 'i', "1"},
    {"sl_cast('0', 'STRING', 'BOOLEAN')", 'i', "0"},
    {"sl_cast('maybe', 'STRING', 'BOOLEAN')", 'e',
     "CAST('maybe' AS BOOLEAN): not a valid BOOLEAN"},
    {"sl_try_cast('maybe', 'STRING', 'BOOLEAN')", 'n', NULL},
    {"sl_cast(5, 'INT', 'BOOLEAN')", 'i', "1"},
    {"sl_cast(0.0, 'DOUBLE', 'BOOLEAN')", 'i', "0"},
    {"sl_cast(1, 'BOOLEAN', 'STRING')", 't', "TRUE"},
    {"sl_cast(0, 'BOOLEAN', 'STRING')", 't', "FALSE"},
    {"sl_cast('1.5', 'STRING', 'DOUBLE')", 'r', "1.5"},
    {"sl_cast('x', 'STRING', 'DOUBLE')", 'e',
     "CAST('x' AS DOUBLE): not a valid DOUBLE"},
    {"sl_cast(0.1, 'DOUBLE', 'FLOAT')", 'r', "0.100000001490116"},
    {"sl_cast(3, 'INT', 'DOUBLE')", 'r', "3.0"},
    {"sl_cast(3.14159, 'DOUBLE', 'DECIMAL(10, 2)')", 'r', "3.14"},
    {"sl_cast(2.675, 'DOUBLE', 'DECIMAL(5, 2)')", 'r', "2.68"},
    {"sl_cast('1.005', 'STRING', 'DECIMAL(10, 2)')", 'r', "1.01"},
    {"sl_cast(12345.6, 'DOUBLE', 'DECIMAL(5, 2)')", 'n', NULL},
    {"sl_cast(999.999, 'DOUBLE', 'DECIMAL(5, 2)')", 'n', NULL},
    {"sl_cast(-2.5, 'DOUBLE', 'DECIMAL(10, 0)')", 'r', "-3.0"},
    {"sl_cast(7, 'INT', 'DECIMAL(3, 1)')", 'r', "7.0"},
    {"sl_cast('abc', 'STRING', 'DECIMAL(10, 2)')", 'e',
     "CAST('abc' AS DECIMAL(10, 2)): not a valid DECIMAL(10, 2)"},
    {"sl_cast(3.14159, 'DECIMAL(10, 5)', 'STRING')", 't', "3.14159"},
    {"sl_cast(3.1, 'DECIMAL(10, 2)', 'STRING')", 't', "3.10"},
    {"sl_cast(42, 'INT', 'STRING')", 't', "42"},
    {"sl_cast(1.5, 'DOUBLE', 'STRING')", 't', "1.5"},
    {"sl_cast(1704164645678, 'TIMESTAMP(3)', 'STRING')", 't',
     "2024-01-02 03:04:05.678"},
    {"sl_cast(1704164645678, 'TIMESTAMP(0)', 'STRING')", 't',
     "2024-01-02 03:04:05"},
    {"sl_cast(19724, 'DATE', 'STRING')", 't', "2024-01-02"},
    {"sl_cast(3723000, 'TIME(0)', 'STRING')", 't', "01:02:03"},
    {"sl_cast('hello', 'STRING', 'VARCHAR(3)')", 't', "hel"},
    {"sl_cast('héllo', 'STRING', 'VARCHAR(2)')", 't', "hé"},
    {"sl_cast('ab', 'STRING', 'CHAR(4)')", 't', "ab  "},
    {"sl_cast('abcdef', 'STRING', 'CHAR(3)')", 't', "abc"},
    {"sl_cast(x'6869', 'BYTES', 'STRING')", 't', "hi"},
    {"sl_cast(12345, 'INT', 'VARCHAR(3)')", 't', "123"},
    {"sl_cast('2024-01-02 03:04:05.678', 'STRING', 'TIMESTAMP(3)')", 'i',
     "1704164645678"},
    {"sl_cast('2024-01-02 03:04:05.678', 'STRING', 'TIMESTAMP(0)')", 'i',
     "1704164645000"},
    {"sl_cast('2024-01-02', 'STRING', 'TIMESTAMP(3)')", 'i', "1704153600000"},
    {"sl_cast('nope', 'STRING', 'TIMESTAMP(3)')", 'e',
     "CAST('nope' AS TIMESTAMP(3)): not a valid TIMESTAMP"},
    {"sl_try_cast('nope', 'STRING', 'TIMESTAMP(3)')", 'n', NULL},
    {"sl_cast(19724, 'DATE', 'TIMESTAMP(3)')", 'i', "1704153600000"},
    {"sl_cast(1704164645678, 'TIMESTAMP(3)', 'DATE')", 'i', "19724"},
    {"sl_cast(-1, 'TIMESTAMP(3)', 'DATE')", 'i', "-1"},
    {"sl_cast(1704164645678, 'TIMESTAMP(3)', 'TIME(0)')", 'i', "11045000"},
    {"sl_cast(1704164645678, 'TIMESTAMP(3)', 'TIMESTAMP_LTZ(3)')", 'i',
     "1704164645678"},
    {"sl_cast(1704164645, 'BIGINT', 'TIMESTAMP_LTZ(3)')", 'i', "1704164645000"},
    {"sl_cast(9223372036854775807, 'BIGINT', 'TIMESTAMP_LTZ(3)')", 'e',
     "out of range for TIMESTAMP_LTZ"},
    {"sl_cast('2024-01-02T03:04:05Z', 'STRING', 'TIMESTAMP_LTZ(3)')", 'i',
     "1704164645000"},
    {"sl_cast('2024-01-02 00:00:00', 'STRING', 'TIMESTAMP(3) *ROWTIME*')", 'i',
     "1704153600000"},
    {"sl_cast('2024-01-02 00:00:00', 'STRING', "
     "'TIMESTAMP(3) WITH LOCAL TIME ZONE')",
     'i', "1704153600000"},
    {"sl_cast('2024-01-02', 'STRING', 'DATE')", 'i', "19724"},
    {"sl_cast('2024-13-01', 'STRING', 'DATE')", 'e',
     "CAST('2024-13-01' AS DATE): not a valid DATE"},
    {"sl_cast('2024-01-02 10:00:00', 'STRING', 'DATE')", 'i', "19724"},
    {"sl_cast(5, 'INT', 'DATE')", 'e', "cannot cast INT to DATE"},
    {"sl_cast('01:02:03', 'STRING', 'TIME(0)')", 'i', "3723000"},
    {"sl_cast('25:00:00', 'STRING', 'TIME(0)')", 'e', "not a valid TIME"},
    {"sl_cast('hi', 'STRING', 'BYTES')", 'b', "6869"},
    {"sl_cast('hi', 'STRING', 'BINARY(4)')", 'b', "68690000"},
    {"sl_cast('hello', 'STRING', 'VARBINARY(2)')", 'b', "6865"},
    {"sl_cast(5, 'INT', 'BYTES')", 'e', "cannot cast INT to a binary type"},
    {"sl_cast('[1,2,3]', 'ARRAY<INT>', 'ARRAY<STRING>')", 't',
     "[\"1\",\"2\",\"3\"]"},
    {"sl_cast('[\"1\",\"x\"]', 'ARRAY<STRING>', 'ARRAY<INT>')", 'e',
     "AS ARRAY<INT>): not a valid INT"},
    {"sl_try_cast('[\"1\",\"x\"]', 'ARRAY<STRING>', 'ARRAY<INT>')", 'n', NULL},
    {"sl_cast('[\"1\",null]', 'ARRAY<STRING>', 'ARRAY<INT>')", 't', "[1,null]"},
    {"sl_cast('[1,0]', 'ARRAY<INT>', 'ARRAY<BOOLEAN>')", 't', "[true,false]"},
    {"sl_cast('[[1],[2]]', 'ARRAY<ARRAY<INT>>', 'ARRAY<ARRAY<STRING>>')", 't',
     "[[\"1\"],[\"2\"]]"},
    {"sl_cast('{\"a\":1,\"b\":\"2\"}', 'ROW<`a` INT, `b` STRING>', "
     "'ROW<`a` STRING, `b` INT>')",
     't', "{\"a\":\"1\",\"b\":2}"},
    {"sl_cast('{\"k\":\"1\"}', 'MAP<STRING, STRING>', 'MAP<STRING, INT>')", 't',
     "{\"k\":1}"},
    {"sl_cast('not json', 'STRING', 'ARRAY<INT>')", 'e',
     "CAST('not json' AS ARRAY<INT>): not a valid ARRAY<INT>"},
    {"sl_cast('[1,2]', 'ARRAY<INT>', 'STRING')", 't', "[1,2]"},
    {"sl_cast(1, 'INT', 'FOO')", 'e', "sl_cast: 'FOO' is not a SQL type"},
    {"sl_cast(1, 'INT', 'DECIMAL(10')", 'e', "is not a SQL type"},
    {"sl_cast(1, 'INT', 'ARRAY<>')", 'e', "is not a SQL type"},
    {"sl_cast(NULL, 'INT', 'STRING')", 'n', NULL},
    {"sl_try_cast(NULL, 'STRING', 'INT')", 'n', NULL},
    {"sl_cast(5, 'INT NOT NULL', 'VARCHAR(5) NOT NULL')", 't', "5"},
    {"sl_cast(5, 'INTERVAL DAY TO SECOND(3)', 'BIGINT')", 'i', "5"},
    {"sl_cast(2.5, 'DOUBLE PRECISION', 'STRING')", 't', "2.5"},
};

Test(functions, cast)
{
    RUN(cast_cases);
}

/* Every spelling sl_type_format prints parses back to the same type. */
Test(functions, type_spellings)
{
    static const char *spellings[] = {
        "BOOLEAN",
        "TINYINT",
        "SMALLINT",
        "INT",
        "BIGINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL(10, 2)",
        "CHAR(3)",
        "VARCHAR(5)",
        "STRING",
        "BINARY(4)",
        "VARBINARY(9)",
        "BYTES",
        "DATE",
        "TIME(0)",
        "TIMESTAMP(3)",
        "TIMESTAMP_LTZ(3)",
        "TIMESTAMP(3) *ROWTIME*",
        "TIMESTAMP_LTZ(3) *PROCTIME*",
        "ARRAY<INT>",
        "MAP<STRING, BIGINT>",
        "ROW<`a` INT, `b c` STRING>",
        "ARRAY<ROW<`x` DOUBLE NOT NULL>> NOT NULL",
        "INTERVAL DAY TO SECOND",
        "INTERVAL YEAR TO MONTH",
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        sl_arena arena;
        sl_arena_init(&arena, 256, 0);
        sl_err err;
        sl_err_clear(&err);
        const sl_type *t = sl_functions_parse_type(spellings[i], &arena, &err);
        cr_assert_not_null(t, "%s: %s", spellings[i], err.msg);
        sl_buf b;
        sl_buf_init(&b, 0);
        sl_type_format(t, &b);
        cr_expect_str_eq(sl_buf_cstr(&b), spellings[i]);
        sl_buf_free(&b);
        sl_arena_free(&arena);
    }
    static const char *bad[] = {"",         "INTT",   "DECIMAL(",   "ARRAY<INT",
                                "MAP<INT>", "ROW<a>", "INT garbage"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_arena arena;
        sl_arena_init(&arena, 256, 0);
        sl_err err;
        sl_err_clear(&err);
        cr_expect_null(sl_functions_parse_type(bad[i], &arena, &err), "%s",
                       bad[i]);
        cr_expect(strstr(err.msg, "is not a SQL type") != NULL);
        sl_arena_free(&arena);
    }
}

/* ---- the catalog
 * ---------------------------------------------------------------- */

/* Every catalog entry is documented, unique, and callable with its minimum
 * and maximum number of arguments. */
Test(functions, catalog_callable)
{
    sqlite3 *db = open_db();
    const sl_function_info *list = sl_functions_list();
    int n = 0;
    for (const sl_function_info *f = list; f->name; f++, n++) {
        cr_expect(f->signature && *f->signature, "%s", f->name);
        cr_expect(f->returns && *f->returns, "%s", f->name);
        cr_expect(f->doc && *f->doc, "%s", f->name);
        cr_expect(f->group && *f->group, "%s", f->name);
        for (const sl_function_info *g = list; g < f; g++)
            cr_expect(sqlite3_stricmp(f->name, g->name) != 0, "duplicate %s",
                      f->name);
        int counts[2] = {f->min_args,
                         f->max_args < 0 ? f->min_args + 3 : f->max_args};
        for (int k = 0; k < 2; k++) {
            char sql[512];
            int o = snprintf(sql, sizeof(sql), "SELECT \"%s\"(", f->name);
            for (int a = 0; a < counts[k]; a++)
                o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s'1'",
                              a ? ", " : "");
            snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
            sqlite3_stmt *st = NULL;
            cr_expect_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
                         "%s: %s", sql, sqlite3_errmsg(db));
            int rc = sqlite3_step(st);
            cr_expect(rc == SQLITE_ROW || rc == SQLITE_ERROR, "%s", sql);
            if (rc == SQLITE_ERROR)
                cr_expect(strlen(sqlite3_errmsg(db)) > 0);
            sqlite3_finalize(st);
        }
        if (f->max_args >= 0) {
            /* one argument too many is rejected when preparing */
            char sql[512];
            int o = snprintf(sql, sizeof(sql), "SELECT \"%s\"(", f->name);
            for (int a = 0; a <= f->max_args; a++)
                o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s1",
                              a ? ", " : "");
            snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
            sqlite3_stmt *st = NULL;
            if (f->impl) {
                cr_expect_neq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
                              SQLITE_OK, "%s accepted", sql);
            }
            sqlite3_finalize(st);
        }
    }
    cr_expect_gt(n, 140);
    sqlite3_close(db);
}

Test(functions, register_twice_and_misuse)
{
    sqlite3 *db = open_db();
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_functions_register(db, &err), SL_OK);
    sqlite3_close(db);
    sl_err_clear(&err);
    cr_assert_eq(sl_functions_register(NULL, &err), SL_MISUSE);
}

/* ---- robustness
 * ------------------------------------------------------------------ */

static uint64_t rng_state = 0x5eed1234abcdULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void bind_random(sqlite3_stmt *st, int i)
{
    static const int64_t ints[] = {0,
                                   1,
                                   -1,
                                   2,
                                   3,
                                   7,
                                   100,
                                   255,
                                   -128,
                                   2147483647,
                                   INT64_MAX,
                                   INT64_MIN,
                                   1704164645678LL,
                                   -62135596800000LL,
                                   253402300799999LL};
    static const double reals[] = {0.0,     -0.0,    0.5,  -2.675, 1e308,
                                   -1e308,  1e-320,  3.14, 1e18,   9.3e18,
                                   -9.3e18, 123.456, 1e300};
    static const char *texts[] = {
        "",
        "abc",
        "héllo wörld",
        "[1,2,3]",
        "[1.5,-2,3e10]",
        "{\"a\":1,\"b\":[1,{\"c\":null}]}",
        "[[1,\"x\"],[2,\"y\"]]",
        "$.a",
        "$.b[0].c",
        "$[*]",
        "lax $.*",
        "YEAR",
        "DAY",
        "MONTH",
        "WEEK",
        "HOUR",
        "MILLISECOND",
        "yyyy-MM-dd HH:mm:ss",
        "EEE MMM d yyyy h:mm a SSS XXX",
        "'quoted''",
        "2024-01-02 03:04:05.678",
        "2024-02-29",
        "23:59:59",
        "INT",
        "STRING",
        "DECIMAL(10, 2)",
        "ARRAY<INT>",
        "MAP<STRING, INT>",
        "ROW<`a` INT>",
        "TIMESTAMP(3)",
        "DATE",
        "BOOLEAN",
        "BYTES",
        "CHAR(3)",
        "UTC",
        "Europe/Berlin",
        "+05:30",
        "../../../etc/passwd",
        "(a+)+$",
        "(?<n>x)|[",
        "\\",
        "$1${n}",
        "http://u:p@h.com:8/p?q=1&r=2#f",
        "HOST",
        "QUERY",
        "true",
        "-9223372036854775809",
        "1e999",
        "NaN",
        "%zz%4",
        "aGVsbG8=",
        "WITH",
        "CONDITIONAL",
        "ARRAY",
        "\xff\xfe\xc3",
        "\xe2\x82",
    };
    switch (rnd() % 6) {
    case 0:
        sqlite3_bind_null(st, i);
        break;
    case 1:
        sqlite3_bind_int64(st, i,
                           rnd() % 2
                               ? ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]
                               : (int64_t)rnd());
        break;
    case 2:
        sqlite3_bind_double(st, i,
                            reals[rnd() % (sizeof(reals) / sizeof(reals[0]))]);
        break;
    case 3:
    case 4: {
        const char *t = texts[rnd() % (sizeof(texts) / sizeof(texts[0]))];
        sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
        break;
    }
    default: {
        unsigned char bytes[64];
        int n = (int)(rnd() % sizeof(bytes));
        for (int k = 0; k < n; k++)
            bytes[k] = (unsigned char)rnd();
        if (rnd() % 2)
            sqlite3_bind_blob(st, i, bytes, n, SQLITE_TRANSIENT);
        else
            sqlite3_bind_text(st, i, (const char *)bytes, n, SQLITE_TRANSIENT);
    }
    }
}

/* Random values of every storage class, valid and invalid, into every
 * function with every allowed argument count: results may be errors, but
 * nothing may crash (run under ASan in the suite). */
Test(functions, fuzz_every_function, .timeout = 300)
{
    sqlite3 *db = open_db();
    int calls = 0;
    /* SLUICE_FN_FUZZ_ITERS / _SEED run it longer or differently by hand */
    const char *env = getenv("SLUICE_FN_FUZZ_ITERS");
    int iters = env ? (int)strtol(env, NULL, 10) : 150;
    env = getenv("SLUICE_FN_FUZZ_SEED");
    if (env)
        rng_state = strtoull(env, NULL, 10) | 1;
    for (const sl_function_info *f = sl_functions_list(); f->name; f++) {
        int hi = f->max_args < 0 ? f->min_args + 4 : f->max_args;
        for (int argc = f->min_args; argc <= hi; argc++) {
            char sql[512];
            int o = snprintf(sql, sizeof(sql), "SELECT \"%s\"(", f->name);
            for (int a = 0; a < argc; a++)
                o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s?",
                              a ? ", " : "");
            snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
            sqlite3_stmt *st = NULL;
            cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
                         "%s: %s", sql, sqlite3_errmsg(db));
            for (int iter = 0; iter < iters; iter++) {
                for (int a = 1; a <= argc; a++)
                    bind_random(st, a);
                int rc = sqlite3_step(st);
                cr_assert(rc == SQLITE_ROW || rc == SQLITE_ERROR ||
                              rc == SQLITE_TOOBIG,
                          "%s: rc %d", sql, rc);
                sqlite3_reset(st);
                calls++;
            }
            sqlite3_finalize(st);
        }
    }
    cr_log_info("%d calls", calls);
    cr_expect_gt(calls, 100);
    sqlite3_close(db);
}

/* Regression: extreme epoch values (fuzz found a signed overflow in the
 * calendar split near INT64_MIN). */
static const fcase extreme_cases[] = {
    {"DATE_FORMAT(-9223372036854775808, 'yyyy')", 'e',
     "out of the TIMESTAMP range"},
    {"TIME_FLOOR(-9223372036854775807, 'MONTH')", 'e',
     "out of the TIMESTAMP range"},
    {"sl_cast(-9223372036854775808, 'TIMESTAMP(3)', 'STRING')", 'e',
     "out of range"},
    {"sl_cast(9223372036854775807, 'DATE', 'STRING')", 'e', "out of range"},
    {"FROM_UNIXTIME(-9000000000000000)", 't', "-285196677-06-10 08:00:00"},
    {"YEAR(9000000000000000000)", 'i', "285200616"},
};

Test(functions, extreme_values)
{
    RUN(extreme_cases);
}
