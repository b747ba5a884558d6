/*
 * preagg.c: batch-local pre-aggregation (see preagg.h). One open-addressing
 * hash table of (window, group key) slots per input batch; op_window.c
 * folds the batch's rows into it and then upserts one partial per slot.
 */
#include <string.h>

#include "preagg.h"

static bool foldable(sl_agg_kind k)
{
    return k == SL_AGG_COUNT_STAR || k == SL_AGG_COUNT || k == SL_AGG_SUM ||
           k == SL_AGG_AVG || k == SL_AGG_MIN || k == SL_AGG_MAX;
}

bool sl_preagg_supported(int n_aggs, const sl_agg_def *aggs)
{
    for (int i = 0; i < n_aggs; i++)
        if (!foldable(aggs[i].kind) && !sl_agg_is_buffered(aggs[i].kind))
            return false;
    return true;
}

void sl_preagg_init(sl_preagg *p, int n_aggs, const sl_agg_def *aggs)
{
    memset(p, 0, sizeof(*p));
    p->n_aggs = n_aggs;
    p->aggs = aggs;
    sl_buf_init(&p->keys, (size_t)1 << 30);
}

void sl_preagg_free(sl_preagg *p)
{
    sl_free(p->slots);
    sl_free(p->parts);
    sl_free(p->index);
    sl_buf_free(&p->keys);
    memset(p, 0, sizeof(*p));
}

int sl_preagg_begin(sl_preagg *p, int n_rows)
{
    if (n_rows < 1)
        n_rows = 1;
    if (n_rows > p->cap) {
        uint32_t buckets = 16;
        while (buckets < (uint32_t)n_rows * 2u)
            buckets <<= 1;
        size_t na = (size_t)(p->n_aggs ? p->n_aggs : 1);
        sl_preagg_slot *s = sl_malloc((size_t)n_rows * sizeof(*s));
        sl_preagg_part *pa = sl_malloc((size_t)n_rows * na * sizeof(*pa));
        int32_t *ix = sl_malloc(buckets * sizeof(*ix));
        if (!s || !pa || !ix) {
            sl_free(s);
            sl_free(pa);
            sl_free(ix);
            return SL_NOMEM;
        }
        sl_free(p->slots);
        sl_free(p->parts);
        sl_free(p->index);
        p->slots = s;
        p->parts = pa;
        p->index = ix;
        p->cap = n_rows;
        p->mask = buckets - 1;
    }
    memset(p->index, 0, ((size_t)p->mask + 1) * sizeof(*p->index));
    p->n_slots = 0;
    sl_buf_reset(&p->keys);
    return SL_OK;
}

bool sl_preagg_row_ok(const sl_preagg *p, const sl_value *row)
{
    for (int i = 0; i < p->n_aggs; i++) {
        sl_agg_kind k = p->aggs[i].kind;
        if (k != SL_AGG_SUM && k != SL_AGG_AVG)
            continue;
        uint8_t vk = row[p->aggs[i].arg].kind;
        if (vk != SL_V_INT && vk != SL_V_REAL && vk != SL_V_NULL)
            return false;
    }
    return true;
}

static uint64_t hash_of(int64_t ws, int64_t we, const void *key, uint32_t n)
{
    /* FNV-1a over the key, mixed with the window bounds */
    uint64_t h = 1469598103934665603ull;
    const unsigned char *b = key;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    h ^= (uint64_t)ws * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)we * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* SQLite's order of values in a comparison (NULLs are handled by the
 * caller): numbers < TEXT < BLOB; numbers compare by value, TEXT and BLOB
 * bytewise (BINARY collation) and then by length. */
static int cmp_values(const sl_value *a, const sl_value *b)
{
    bool an = a->kind == SL_V_INT || a->kind == SL_V_REAL;
    bool bn = b->kind == SL_V_INT || b->kind == SL_V_REAL;
    if (an && bn) {
        if (a->kind == SL_V_INT && b->kind == SL_V_INT)
            return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        long double x = a->kind == SL_V_INT ? (long double)a->u.i : a->u.d;
        long double y = b->kind == SL_V_INT ? (long double)b->u.i : b->u.d;
        return (x > y) - (x < y);
    }
    if (an != bn)
        return an ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind == SL_V_TEXT ? -1 : 1;
    const void *pa = a->kind == SL_V_TEXT ? (const void *)a->u.s : a->u.b;
    const void *pb = b->kind == SL_V_TEXT ? (const void *)b->u.s : b->u.b;
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(pa, pb, n) : 0;
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* s + v as SQLite adds them: INT + INT stays INT unless it overflows,
 * then both become REAL; anything with a REAL is REAL. */
static void add_to(sl_value *s, const sl_value *v)
{
    if (s->kind == SL_V_INT && v->kind == SL_V_INT) {
        int64_t r;
        if (!__builtin_add_overflow(s->u.i, v->u.i, &r)) {
            s->u.i = r;
            return;
        }
    }
    double x = s->kind == SL_V_INT ? (double)s->u.i : s->u.d;
    double y = v->kind == SL_V_INT ? (double)v->u.i : v->u.d;
    s->kind = SL_V_REAL;
    s->u.d = x + y;
}

static void fold(sl_preagg_part *pt, const sl_agg_def *a, const sl_value *row)
{
    const sl_value *v = a->arg >= 0 ? &row[a->arg] : NULL;
    switch (a->kind) {
    case SL_AGG_COUNT_STAR:
        pt->c++;
        break;
    case SL_AGG_COUNT:
        pt->c += v->kind != SL_V_NULL;
        break;
    case SL_AGG_SUM:
    case SL_AGG_AVG:
        if (v->kind == SL_V_NULL)
            break;
        pt->c++;
        if (pt->v.kind == SL_V_NULL)
            pt->v = *v;
        else
            add_to(&pt->v, v);
        break;
    case SL_AGG_MIN:
    case SL_AGG_MAX:
        if (v->kind == SL_V_NULL)
            break;
        if (pt->v.kind == SL_V_NULL)
            pt->v = *v;
        else {
            int c = cmp_values(v, &pt->v);
            if (a->kind == SL_AGG_MIN ? c < 0 : c > 0)
                pt->v = *v;
        }
        break;
    default:
        break;
    }
}

int sl_preagg_add(sl_preagg *p, int64_t ws, int64_t we, const void *key,
                  uint32_t klen, int row_index, const sl_value *row)
{
    uint64_t h = hash_of(ws, we, key, klen);
    uint32_t b = (uint32_t)h & p->mask;
    sl_preagg_slot *s = NULL;
    for (;;) {
        int32_t ix = p->index[b];
        if (!ix)
            break;
        sl_preagg_slot *c = &p->slots[ix - 1];
        if (c->hash == h && c->ws == ws && c->we == we && c->klen == klen &&
            memcmp(p->keys.data + c->koff, key, klen) == 0) {
            s = c;
            break;
        }
        b = (b + 1) & p->mask;
    }
    if (!s) {
        if (p->n_slots >= p->cap)
            return SL_LIMIT;
        size_t off = p->keys.len;
        if (sl_buf_append(&p->keys, key, klen))
            return SL_NOMEM;
        s = &p->slots[p->n_slots++];
        s->ws = ws;
        s->we = we;
        s->hash = h;
        s->koff = off;
        s->klen = klen;
        s->row = row_index;
        p->index[b] = p->n_slots;
        sl_preagg_part *pt = &p->parts[(size_t)(s - p->slots) * p->n_aggs];
        for (int i = 0; i < p->n_aggs; i++) {
            pt[i].c = 0;
            pt[i].v = sl_value_null();
        }
    }
    sl_preagg_part *pt = &p->parts[(size_t)(s - p->slots) * p->n_aggs];
    for (int i = 0; i < p->n_aggs; i++)
        fold(&pt[i], &p->aggs[i], row);
    return SL_OK;
}
