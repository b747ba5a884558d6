/*
 * arena.c: bump allocation freed by lifetime.
 *
 * Batches keep their strings in an arena that is reset when the batch is
 * recycled; the parser keeps its AST in one that dies with the statement.
 * Blocks are chained; a request larger than the block size gets a block of
 * its own. The arena's total is bounded by max_bytes.
 */
#include <string.h>

#include "util.h"

struct sl_arena_block {
    sl_arena_block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(8) unsigned char data[];
};

void sl_arena_init(sl_arena *arena, size_t block_size, size_t max_bytes)
{
    arena->head = NULL;
    arena->block_size = block_size ? block_size : 4096;
    arena->max_bytes = max_bytes;
    arena->used_bytes = 0;
}

void *sl_arena_alloc(sl_arena *arena, size_t n)
{
    size_t need = (n + 7) & ~(size_t)7;
    if (need < n)
        return NULL;
    if (arena->max_bytes && arena->used_bytes + need > arena->max_bytes)
        return NULL;
    sl_arena_block *b = arena->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > arena->block_size ? need : arena->block_size;
        sl_arena_block *nb = sl_malloc(sizeof(*nb) + size);
        if (!nb)
            return NULL;
        nb->size = size;
        nb->used = 0;
        if (b && need > arena->block_size && b->size - b->used > 64) {
            /* Keep filling the current block; slot the big one behind it. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            arena->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    arena->used_bytes += need;
    return p;
}

char *sl_arena_strndup(sl_arena *arena, const char *s, size_t len)
{
    char *d = sl_arena_alloc(arena, len + 1);
    if (!d)
        return NULL;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void sl_arena_reset(sl_arena *arena)
{
    sl_arena_block *keep = NULL;
    sl_arena_block *b = arena->head;
    while (b) {
        sl_arena_block *next = b->next;
        if (!keep && b->size == arena->block_size) {
            keep = b;
        } else {
            sl_free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    arena->head = keep;
    arena->used_bytes = 0;
}

void sl_arena_free(sl_arena *arena)
{
    sl_arena_block *b = arena->head;
    while (b) {
        sl_arena_block *next = b->next;
        sl_free(b);
        b = next;
    }
    arena->head = NULL;
    arena->used_bytes = 0;
}
