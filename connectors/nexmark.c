/*
 * nexmark.c: the 'nexmark' source: the Nexmark benchmark's online auction
 * events (Person, Auction, Bid) in the benchmark's standard proportions
 * (1 : 3 : 46 out of every 50 events), with its hot-item skew and record
 * sizes, for benchmarks and demos.
 *
 * One table per event type ('event.type' = 'person' | 'auction' | 'bid');
 * its columns are any of that type's fields, matched by name (Flink's
 * nexmark names: id, name, emailAddress, ... dateTime, extra). Every
 * event number n has its own random stream (seed and n hashed), so tables
 * over the same seed describe the same auction world: a bid's auction and
 * bidder are ids that the auction and person tables generate. Event time
 * advances 1/'tps' seconds per event from 2015-07-15 00:00:00 UTC (the
 * benchmark's base time); rows are generated as fast as the job takes
 * them, up to 'events-num' events (all types counted), unbounded when
 * unset.
 */
#include <math.h>
#include <string.h>

#include "connector.h"

#define NX_BASE_MS     1436918400000LL /* 2015-07-15 00:00:00 UTC */
#define NX_PROPORTION  50
#define NX_FIRST_ID    1000
#define NX_HOT_RATIO   100 /* hot ids are multiples of this */
#define NX_IN_FLIGHT   100 /* auctions a bid picks from */
#define NX_ACTIVE_PPL  1000
#define NX_MAX_FIELDS  10
#define NX_PERSON_SIZE 200
#define NX_AUCT_SIZE   500
#define NX_BID_SIZE    100

static const sl_option_def nexmark_options[] = {
    {"event.type", "enum", NULL,
     "Which events the table holds: 'person', 'auction' or 'bid'."},
    {"events-num", "int", NULL,
     "Events to generate (all three types counted); bounded when set."},
    {"tps", "int", "10000",
     "Events per second of event time (dateTime advances 1/tps per event)."},
    {"seed", "int", "0", "Seed: the same seed gives the same events."},
    {NULL, NULL, NULL, NULL},
};

typedef enum nx_type { NX_PERSON = 0, NX_AUCTION = 1, NX_BID = 2 } nx_type;

static const char *const type_names[] = {"person", "auction", "bid", NULL};
static const char *const person_fields[] = {
    "id",    "name",     "emailAddress", "creditCard", "city",
    "state", "dateTime", "extra",        NULL};
static const char *const auction_fields[] = {
    "id",      "itemName", "description", "initialBid", "reserve", "dateTime",
    "expires", "seller",   "category",    "extra",      NULL};
static const char *const bid_fields[] = {
    "auction", "bidder", "price", "channel", "url", "dateTime", "extra", NULL};

static const char *const first_names[] = {"Peter", "Paul",   "Luke",  "John",
                                          "Saul",  "Vicky",  "Kate",  "Julie",
                                          "Sarah", "Deiter", "Walter"};
static const char *const last_names[] = {"Shultz", "Abrams",  "Spencer",
                                         "White",  "Bartels", "Walton",
                                         "Smith",  "Jones",   "Noris"};
static const char *const cities[] = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
static const char *const states[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const channels[] = {"Google", "Facebook", "Baidu", "Apple"};

typedef struct nx_source {
    sl_source base;
    nx_type type;
    int n_cols;
    int field[64]; /* per table column: index in the type's fields */
    int64_t total; /* events, -1: unbounded */
    int64_t next;  /* next event number to look at */
    int64_t tps;
    uint64_t seed;
    char text[1024];
    sl_buf scratch;
} nx_source;

static inline uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t next_u64(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    return mix(*s);
}

static inline int64_t below(uint64_t *s, int64_t n)
{
    return n <= 0 ? 0 : (int64_t)(next_u64(s) % (uint64_t)n);
}

static nx_type type_of(int64_t n)
{
    int64_t r = n % NX_PROPORTION;
    return r < 1 ? NX_PERSON : r < 4 ? NX_AUCTION : NX_BID;
}

/* Persons / auctions among events 0..n-1. */
static int64_t persons_before(int64_t n)
{
    return n / NX_PROPORTION + (n % NX_PROPORTION >= 1 ? 1 : 0);
}

static int64_t auctions_before(int64_t n)
{
    int64_t r = n % NX_PROPORTION;
    return n / NX_PROPORTION * 3 + (r <= 1 ? 0 : r >= 4 ? 3 : r - 1);
}

static int64_t last_person(int64_t n)
{
    int64_t p = persons_before(n);
    return NX_FIRST_ID + (p > 0 ? p - 1 : 0);
}

static int64_t last_auction(int64_t n)
{
    int64_t a = auctions_before(n);
    return NX_FIRST_ID + (a > 0 ? a - 1 : 0);
}

static int64_t clamp_id(int64_t id)
{
    return id < NX_FIRST_ID ? NX_FIRST_ID : id;
}

static int64_t price(uint64_t *r)
{
    double u = (double)(next_u64(r) >> 11) / 9007199254740992.0;
    return (int64_t)llround(pow(10.0, u * 6.0) * 100.0);
}

static int put_letters(nx_source *s, uint64_t *r, sl_batch *b, sl_value *v,
                       int len)
{
    if (len > (int)sizeof(s->text))
        len = (int)sizeof(s->text);
    for (int i = 0; i < len; i++)
        s->text[i] = (char)('a' + below(r, 26));
    return sl_batch_set_text(b, v, s->text, (size_t)len);
}

static int put_str(sl_batch *b, sl_value *v, const char *str)
{
    return sl_batch_set_text(b, v, str, strlen(str));
}

static int put_fmt(nx_source *s, sl_batch *b, sl_value *v, const char *fmt, ...)
    SL_PRINTF(4, 5);

static int put_fmt(nx_source *s, sl_batch *b, sl_value *v, const char *fmt, ...)
{
    sl_buf_reset(&s->scratch);
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&s->scratch, fmt, ap);
    va_end(ap);
    if (s->scratch.rc)
        return s->scratch.rc;
    return sl_batch_set_text(b, v, sl_buf_cstr(&s->scratch), s->scratch.len);
}
/* Fill one row for event n. Fields are drawn in a fixed order whatever
 * columns the table declares, so values do not depend on the schema. */
static int gen_row(nx_source *s, int64_t n, sl_batch *b, sl_value *row)
{
    uint64_t r = mix(s->seed ^ mix((uint64_t)n + 0x632BE59BD9B4E019ull));
    int64_t t = NX_BASE_MS + n * 1000 / s->tps;
    sl_value f[NX_MAX_FIELDS];
    for (int i = 0; i < NX_MAX_FIELDS; i++)
        f[i] = sl_value_null();
    int rc = SL_OK;
    if (s->type == NX_PERSON) {
        int64_t id = NX_FIRST_ID + persons_before(n);
        const char *fn = first_names[below(&r, SL_ARRAY_LEN(first_names))];
        const char *ln = last_names[below(&r, SL_ARRAY_LEN(last_names))];
        int64_t cc = below(&r, 10000);
        const char *city = cities[below(&r, SL_ARRAY_LEN(cities))];
        const char *st = states[below(&r, SL_ARRAY_LEN(states))];
        int extra = (int)below(&r, NX_PERSON_SIZE - 40) + 20;
        f[0] = sl_value_int(id);
        rc = put_fmt(s, b, &f[1], "%s %s", fn, ln);
        if (!rc)
            rc = put_fmt(s, b, &f[2], "%s%s@%s.com", fn, ln,
                         cities[id % SL_ARRAY_LEN(cities)]);
        if (!rc)
            rc = put_fmt(s, b, &f[3], "%04lld %04lld %04lld %04lld",
                         (long long)cc, (long long)((cc * 7) % 10000),
                         (long long)((cc * 13) % 10000),
                         (long long)((cc * 17) % 10000));
        if (!rc)
            rc = put_str(b, &f[4], city);
        if (!rc)
            rc = put_str(b, &f[5], st);
        f[6] = sl_value_int(t);
        if (!rc)
            rc = put_letters(s, &r, b, &f[7], extra);
    } else if (s->type == NX_AUCTION) {
        int64_t id = NX_FIRST_ID + auctions_before(n);
        int64_t lp = last_person(n);
        int64_t seller = below(&r, 4) > 0
                             ? clamp_id(lp / NX_HOT_RATIO * NX_HOT_RATIO)
                             : clamp_id(lp - below(&r, NX_ACTIVE_PPL));
        int64_t initial = price(&r);
        int64_t reserve = initial + price(&r);
        int64_t expires = t + 1000 + below(&r, 20000);
        int64_t category = 10 + below(&r, 5);
        int extra = (int)below(&r, NX_AUCT_SIZE - 100) + 50;
        f[0] = sl_value_int(id);
        rc = put_fmt(s, b, &f[1], "item-%lld", (long long)below(&r, 100000));
        if (!rc)
            rc = put_letters(s, &r, b, &f[2], 20);
        f[3] = sl_value_int(initial);
        f[4] = sl_value_int(reserve);
        f[5] = sl_value_int(t);
        f[6] = sl_value_int(expires);
        f[7] = sl_value_int(seller);
        f[8] = sl_value_int(category);
        if (!rc)
            rc = put_letters(s, &r, b, &f[9], extra);
    } else {
        int64_t la = last_auction(n), lp = last_person(n);
        int64_t auction = below(&r, 2) > 0
                              ? clamp_id(la / NX_HOT_RATIO * NX_HOT_RATIO)
                              : clamp_id(la - below(&r, NX_IN_FLIGHT));
        int64_t bidder = below(&r, 4) > 0
                             ? clamp_id(lp / NX_HOT_RATIO * NX_HOT_RATIO + 1)
                             : clamp_id(lp - below(&r, NX_ACTIVE_PPL));
        int64_t p = price(&r);
        int64_t ch = below(&r, 100);
        int extra = (int)below(&r, NX_BID_SIZE - 40) + 10;
        f[0] = sl_value_int(auction);
        f[1] = sl_value_int(bidder);
        f[2] = sl_value_int(p);
        if (ch < (int64_t)SL_ARRAY_LEN(channels) * 20)
            rc = put_str(b, &f[3], channels[ch / 20]);
        else
            rc = put_fmt(s, b, &f[3], "channel-%lld", (long long)ch);
        if (!rc)
            rc = put_fmt(s, b, &f[4],
                         "https://www.nexmark.com/%s/item.htm?query=1&"
                         "channel_id=%lld",
                         channels[ch % SL_ARRAY_LEN(channels)], (long long)ch);
        f[5] = sl_value_int(t);
        if (!rc)
            rc = put_letters(s, &r, b, &f[6], extra);
    }
    if (rc)
        return rc;
    for (int c = 0; c < s->n_cols; c++)
        row[c] = f[s->field[c]];
    return SL_OK;
}

static int nx_read(sl_source *src, sl_batch *batch, sl_read_status *status,
                   sl_err *err)
{
    nx_source *s = (nx_source *)src;
    *status = SL_READ_MORE;
    while (!sl_batch_is_full(batch)) {
        if (s->total >= 0 && s->next >= s->total) {
            *status = batch->n_rows ? SL_READ_MORE : SL_READ_EOF;
            return SL_OK;
        }
        int64_t n = s->next++;
        if (type_of(n) != s->type)
            continue;
        sl_value *row = sl_batch_append_row(batch);
        int rc = gen_row(s, n, batch, row);
        if (rc) {
            sl_batch_drop_last(batch);
            return sl_err_set(err, rc, "nexmark: batch arena full");
        }
        batch->pos[batch->n_rows - 1] = (sl_srcpos){0, n};
    }
    return SL_OK;
}

static double nx_progress(sl_source *src)
{
    nx_source *s = (nx_source *)src;
    if (s->total < 0)
        return -1;
    return s->total ? (double)s->next / (double)s->total : 1.0;
}

static void nx_close(sl_source *src)
{
    nx_source *s = (nx_source *)src;
    sl_buf_free(&s->scratch);
    sl_free(s);
}

static const sl_source_ops nx_ops = {
    .read = nx_read,
    .progress = nx_progress,
    .close = nx_close,
};

static int nx_open_source(const sl_table_info *table, sl_source **out,
                          sl_err *err)
{
    *out = NULL;
    sl_options *o = table->options;
    nx_source *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &nx_ops;
    sl_buf_init(&s->scratch, 4096);
    sl_options_mark(o, "connector");
    int type = -1;
    int64_t seed = 0;
    int rc = sl_options_enum(o, "event.type", type_names, -1, &type, err);
    if (!rc && type < 0)
        rc = sl_err_set(err, SL_SQL,
                        "connector 'nexmark' needs 'event.type' = 'person', "
                        "'auction' or 'bid'");
    if (!rc)
        rc = sl_options_int(o, "events-num", -1, 0, INT64_MAX, &s->total, err);
    if (!rc)
        rc = sl_options_int(o, "tps", 10000, 1, 1000000000, &s->tps, err);
    if (!rc)
        rc = sl_options_int(o, "seed", 0, INT64_MIN, INT64_MAX, &seed, err);
    if (!rc)
        rc = sl_options_check_unused(o, "connector 'nexmark'", nexmark_options,
                                     err);
    const sl_schema *sc = table->schema;
    if (!rc && sc->n_cols > (int)SL_ARRAY_LEN(s->field))
        rc = sl_err_set(err, SL_LIMIT, "nexmark: too many columns");
    const char *const *fields = type == NX_PERSON    ? person_fields
                                : type == NX_AUCTION ? auction_fields
                                                     : bid_fields;
    for (int c = 0; !rc && c < sc->n_cols; c++) {
        int k = -1;
        for (int i = 0; fields[i]; i++)
            if (sl_str_ieq(fields[i], sc->cols[c].name))
                k = i;
        if (k < 0) {
            sl_buf b;
            sl_buf_init(&b, 1024);
            for (int i = 0; fields[i]; i++)
                sl_buf_printf(&b, "%s%s", i ? ", " : "", fields[i]);
            rc =
                sl_err_set(err, SL_SQL,
                           "connector 'nexmark': %s events have no field "
                           "'%s' (fields: %s)",
                           type_names[type], sc->cols[c].name, sl_buf_cstr(&b));
            sl_buf_free(&b);
            break;
        }
        bool is_text = sl_type_storage(sc->cols[c].type) == SL_V_TEXT;
        bool want_text =
            !strcmp(fields[k], "name") || !strcmp(fields[k], "emailAddress") ||
            !strcmp(fields[k], "creditCard") || !strcmp(fields[k], "city") ||
            !strcmp(fields[k], "state") || !strcmp(fields[k], "extra") ||
            !strcmp(fields[k], "itemName") ||
            !strcmp(fields[k], "description") ||
            !strcmp(fields[k], "channel") || !strcmp(fields[k], "url");
        if (is_text != want_text ||
            (!want_text && sl_type_storage(sc->cols[c].type) != SL_V_INT))
            rc = sl_err_set(err, SL_SQL,
                            "connector 'nexmark': column '%s' must be %s",
                            sc->cols[c].name,
                            want_text ? "a STRING"
                            : (!strcmp(fields[k], "dateTime") ||
                               !strcmp(fields[k], "expires"))
                                ? "a TIMESTAMP(3)"
                                : "a BIGINT");
        s->field[c] = k;
    }
    if (rc) {
        nx_close(&s->base);
        return rc;
    }
    s->type = (nx_type)type;
    s->n_cols = sc->n_cols;
    s->seed = (uint64_t)seed;
    s->base.is_bounded = s->total >= 0;
    *out = &s->base;
    return SL_OK;
}

const sl_connector sl_connector_nexmark = {
    .version = SL_CONNECTOR_VERSION,
    .name = "nexmark",
    .doc = "Nexmark benchmark events (person, auction, bid) in the "
           "benchmark's proportions and skew.",
    .options = nexmark_options,
    .open_source = nx_open_source,
};
