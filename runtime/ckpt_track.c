/*
 * ckpt_track.c: change tracking for incremental operator snapshots (see
 * ckpt_track.h). SQLite's pre-update hook (compiled into Debian's
 * libsqlite3) reports every row change with its old and new column values;
 * the keys go into open-addressing hash sets (linear probing, grown at
 * half load), the key blobs into one byte buffer. Bounded: past
 * SL_TRACK_MAX_ENTRIES per set or SL_TRACK_MAX_BYTES of blobs the tracker
 * stops recording and reports overflow until cleared.
 */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <string.h>

#include "ckpt_track.h"

typedef struct tent {
    uint64_t h; /* 0: empty slot */
    int64_t a, b;
    uint32_t off, len;
} tent;

typedef struct tset {
    tent *v;
    size_t cap, n;
} tset;

struct sl_ckpt_track {
    sqlite3 *db;
    char *keyed, *rowid;
    tset sets[3];
    sl_buf keys;
    bool overflow;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_of(int64_t a, int64_t b, const void *key, int len)
{
    uint64_t h = mix((uint64_t)a) ^ mix((uint64_t)b + 0x9e3779b97f4a7c15ull);
    const unsigned char *p = key;
    for (int i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h = mix(h);
    return h ? h : 1;
}

static bool grow(tset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    tent *v = sl_calloc(cap, sizeof(tent));
    if (!v)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->v[i].h)
            continue;
        size_t j = s->v[i].h & (cap - 1);
        while (v[j].h)
            j = (j + 1) & (cap - 1);
        v[j] = s->v[i];
    }
    sl_free(s->v);
    s->v = v;
    s->cap = cap;
    return true;
}

static void note(sl_ckpt_track *t, int set, int64_t a, int64_t b,
                 const void *key, int len)
{
    if (t->overflow)
        return;
    tset *s = &t->sets[set];
    if ((s->n + 1) * 2 > s->cap && (s->n >= SL_TRACK_MAX_ENTRIES || !grow(s))) {
        t->overflow = true;
        return;
    }
    uint64_t h = hash_of(a, b, key, len);
    size_t j = h & (s->cap - 1);
    for (; s->v[j].h; j = (j + 1) & (s->cap - 1)) {
        const tent *e = &s->v[j];
        if (e->h == h && e->a == a && e->b == b && e->len == (uint32_t)len &&
            (len == 0 || !memcmp(t->keys.data + e->off, key, (size_t)len)))
            return; /* already recorded */
    }
    size_t off = t->keys.len;
    if (len > 0 && sl_buf_append(&t->keys, key, (size_t)len)) {
        t->overflow = true;
        return;
    }
    s->v[j] = (tent){h, a, b, (uint32_t)off, (uint32_t)len};
    s->n++;
}

static void note_key(sl_ckpt_track *t, sqlite3 *db, bool old)
{
    sqlite3_value *v[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        if ((old ? sqlite3_preupdate_old(db, i, &v[i])
                 : sqlite3_preupdate_new(db, i, &v[i])) != SQLITE_OK) {
            t->overflow = true; /* cannot tell what changed */
            return;
        }
    note(t, SL_TRACK_KEYS, sqlite3_value_int64(v[0]), sqlite3_value_int64(v[1]),
         sqlite3_value_blob(v[2]), sqlite3_value_bytes(v[2]));
}

static void hook(void *ctx, sqlite3 *db, int op, const char *zdb,
                 const char *table, sqlite3_int64 key1, sqlite3_int64 key2)
{
    sl_ckpt_track *t = ctx;
    if (t->overflow || strcmp(zdb, "main"))
        return;
    if (!strcmp(table, t->keyed)) {
        if (sqlite3_preupdate_count(db) < 3) {
            t->overflow = true;
            return;
        }
        if (op != SQLITE_INSERT)
            note_key(t, db, true);
        if (op != SQLITE_DELETE)
            note_key(t, db, false);
    } else if (t->rowid && !strcmp(table, t->rowid)) {
        if (op != SQLITE_INSERT)
            note(t, SL_TRACK_DELETED, key1, 0, NULL, 0);
        if (op != SQLITE_DELETE)
            note(t, SL_TRACK_INSERTED, key2, 0, NULL, 0);
    }
}

int sl_ckpt_track_new(sqlite3 *db, const char *keyed_table,
                      const char *rowid_table, sl_ckpt_track **out, sl_err *err)
{
    *out = NULL;
    sl_ckpt_track *t = sl_calloc(1, sizeof(*t));
    if (!t)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    t->db = db;
    t->keyed = sl_strdup(keyed_table);
    t->rowid = rowid_table ? sl_strdup(rowid_table) : NULL;
    sl_buf_init(&t->keys, SL_TRACK_MAX_BYTES);
    if (!t->keyed || (rowid_table && !t->rowid)) {
        sl_ckpt_track_free(t);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    sqlite3_preupdate_hook(db, hook, t);
    *out = t;
    return SL_OK;
}

void sl_ckpt_track_free(sl_ckpt_track *t)
{
    if (!t)
        return;
    if (t->db)
        sqlite3_preupdate_hook(t->db, NULL, NULL);
    for (int i = 0; i < 3; i++)
        sl_free(t->sets[i].v);
    sl_buf_free(&t->keys);
    sl_free(t->keyed);
    sl_free(t->rowid);
    sl_free(t);
}

bool sl_ckpt_track_overflowed(const sl_ckpt_track *t)
{
    return t->overflow;
}

int64_t sl_ckpt_track_count(const sl_ckpt_track *t, sl_track_set set)
{
    return (int64_t)t->sets[set].n;
}

int sl_ckpt_track_each(const sl_ckpt_track *t, sl_track_set set,
                       int (*cb)(void *ctx, int64_t a, int64_t b,
                                 const void *key, int len),
                       void *ctx)
{
    const tset *s = &t->sets[set];
    for (size_t i = 0; i < s->cap; i++) {
        const tent *e = &s->v[i];
        if (!e->h)
            continue;
        int rc = cb(ctx, e->a, e->b, e->len ? t->keys.data + e->off : NULL,
                    (int)e->len);
        if (rc)
            return rc;
    }
    return SL_OK;
}

void sl_ckpt_track_clear(sl_ckpt_track *t)
{
    for (int i = 0; i < 3; i++) {
        tset *s = &t->sets[i];
        if (s->cap > 4096) { /* give a burst's memory back */
            sl_free(s->v);
            s->v = NULL;
            s->cap = 0;
        } else if (s->v) {
            memset(s->v, 0, s->cap * sizeof(tent));
        }
        s->n = 0;
    }
    sl_buf_reset(&t->keys);
    t->keys.rc = 0;
    t->overflow = false;
}
