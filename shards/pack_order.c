/* The plan of a pack (shards/pack_internal.h, docs/shard-format.md §5): the episodes of the
 * archive put in their documented, seeded output order (per split, tasks interleaved in
 * proportion, each task's episodes by a seeded hash of their keys), cut into blocks, and
 * the part's range of blocks. The order and the blocks depend on the episodes' keys, tasks,
 * splits and step counts only, so every part of a split pack computes the same plan. A part
 * of a version 2 archive (gen/tarz.h) plans from the episode index alone and then reads only
 * its own episodes' frames; a part of a version 1 archive (no index) reads it twice (pass
 * one keeps only those fields; pass two keeps its own episodes whole). One process reads
 * the archive once, streaming, and keeps everything. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"
#include "gen/tarz.h"
#include "shards/pack_internal.h"

void mvot__pack_plan_free(struct pack_plan *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].live)
            mvot_episode_free(&e->v[i].ep);
    free(e->v);
    free(e->order);
    memset(e, 0, sizeof *e);
}

static int cmp_hash(const void *a, const void *b)
{
    const struct pack_slot *x = *(const struct pack_slot *const *)a,
                           *y = *(const struct pack_slot *const *)b;
    if (x->ep.split != y->ep.split)
        return x->ep.split < y->ep.split ? -1 : 1;
    if (x->ep.task != y->ep.task)
        return x->ep.task < y->ep.task ? -1 : 1;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return strcmp(x->ep.key, y->ep.key);
}

/* An episode sits at the middle of its share of its task's samples in the split,
 * mid2 / mass2: tasks interleave in proportion to their samples, so every prefix of a split
 * holds each task's share within about one episode. Compared exactly, in integers. */
static int cmp_position(const void *a, const void *b)
{
    const struct pack_slot *x = *(const struct pack_slot *const *)a,
                           *y = *(const struct pack_slot *const *)b;
    if (x->ep.split != y->ep.split)
        return x->ep.split < y->ep.split ? -1 : 1;
    __extension__ typedef unsigned __int128 u128;
    u128 lx = (u128)x->mid2 * y->mass2, ly = (u128)y->mid2 * x->mass2;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (x->ep.task != y->ep.task)
        return x->ep.task < y->ep.task ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* The plan's blocks (docs/shard-format.md §5): each split's episodes, in output order, are
 * cut into runs of whole episodes; a block closes before the episode that finds it holding
 * shard_samples examples or more (kept or dropped: the count is known from the text alone, so
 * the cut needs no tokenizer, no codebook and no pixels). Shards never span blocks and parts
 * take contiguous ranges of them, so the shard layout does not depend on the part count. */
static void assign_blocks(struct pack_slot **order, size_t n, uint32_t shard_samples,
                          enum mvot_pack_mode mode)
{
    uint32_t block = 0, gblock = 0;
    uint64_t held = 0;
    for (size_t i = 0; i < n; i++) {
        struct pack_slot *s = order[i];
        if (i > 0 && s->ep.split != order[i - 1]->ep.split) {
            block = 0;
            held = 0;
            gblock++;
        } else if (i > 0 && shard_samples && held >= shard_samples) {
            block++;
            held = 0;
            gblock++;
        }
        s->block = block;
        s->gblock = gblock;
        held += mvot_assemble_count(&s->ep, mode);
    }
}

/* Keeps of an episode only what the order and the blocks need (key, task, split, steps), so
 * that a part holds the whole set's plan in memory but only its own episodes' frames. */
static void episode_strip(struct mvot_episode *ep)
{
    struct mvot_episode keep = {0};
    keep.key = ep->key;
    keep.task = ep->task;
    keep.split = ep->split;
    keep.n_steps = ep->n_steps;
    ep->key = NULL;
    mvot_episode_free(ep);
    *ep = keep;
}

/* A part's second pass over the archive (same order as the first): the episodes of its own
 * blocks come back whole, the others are dropped as they are read. */
static enum mvot_status reload_range(const char *arch, struct mvot_tarz_index *ix,
                                     struct pack_plan *e, uint32_t first, uint32_t end,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    struct mvot_episode ep = {0};
    if (ix) { /* random access: only the frames of the part's own episodes are read */
        for (size_t i = 0; i < e->n; i++) {
            struct pack_slot *sl = &e->v[i];
            if (sl->gblock < first || sl->gblock >= end)
                continue;
            MVOT_TRY(mvot_episode_archive_read(ix, i, &ep, err));
            mvot_episode_free(&sl->ep);
            sl->ep = ep;
            memset(&ep, 0, sizeof ep);
        }
        goto cleanup;
    }
    MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    for (size_t i = 0;; i++) {
        int done = 0;
        MVOT_TRY(mvot_episode_reader_next(rd, &ep, &done, err));
        if (done) {
            MVOT_CORRUPT_IF(i != e->n, err, arch, "changed while packing (%zu episodes, then %zu)",
                            e->n, i);
            break;
        }
        struct pack_slot *sl = i < e->n ? &e->v[i] : NULL;
        MVOT_CORRUPT_IF(!sl || strcmp(sl->ep.key, ep.key) != 0, err, arch,
                        "changed while packing (episode %zu is %s)", i, ep.key);
        if (sl->gblock >= first && sl->gblock < end) {
            mvot_episode_free(&sl->ep);
            sl->ep = ep;
            memset(&ep, 0, sizeof ep);
        } else {
            mvot_episode_free(&ep);
        }
    }
cleanup:
    mvot_episode_free(&ep);
    mvot_episode_reader_close(rd);
    return st;
}

/* Reads every episode and returns them in output order (*order: pointers into e); with strip,
 * only what the order needs of each (episode_strip); with an index ix, those fields come
 * from the index and no frame is read. */
static enum mvot_status load_episodes(const char *arch, struct mvot_tarz_index *ix, uint64_t seed,
                                      enum mvot_pack_mode mode, uint32_t shard_samples, int strip,
                                      struct pack_plan *e, struct pack_slot ***order,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    *order = NULL;
    if (!ix)
        MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    for (;;) {
        MVOT_TRY(MVOT_GROW(&e->v, &e->cap, e->n + 1, MVOT_GROW_UNCAPPED, err));
        struct pack_slot *s = &e->v[e->n];
        int done = 0;
        memset(s, 0, sizeof *s);
        if (ix) {
            if (e->n == mvot_tarz_index_count(ix))
                break;
            const struct mvot_tarz_episode *te = mvot_tarz_index_get(ix, e->n);
            s->ep.key = strdup(te->key);
            MVOT_FAIL_IF(!s->ep.key, err, MVOT_ERR_NOMEM, arch, "out of memory");
            s->ep.task = (enum mvot_task)te->task;
            s->ep.split = (enum mvot_split)te->split;
            s->ep.n_steps = te->steps;
            s->live = 1;
        } else {
            MVOT_TRY(mvot_episode_reader_next(rd, &s->ep, &done, err));
            if (done)
                break;
            s->live = 1;
            if (strip)
                episode_strip(&s->ep);
        }
        s->h = mvot_hash64_seed(s->ep.key, strlen(s->ep.key), seed ^ MVOT_PACK_DOMAIN_ORDER);
        e->n++;
    }
    *order = malloc((e->n ? e->n : 1) * sizeof **order);
    MVOT_FAIL_IF(!*order, err, MVOT_ERR_NOMEM, arch, "out of memory");
    for (size_t i = 0; i < e->n; i++)
        (*order)[i] = &e->v[i];
    qsort(*order, e->n, sizeof **order, cmp_hash);
    for (size_t i = 0, j; i < e->n; i = j) { /* ranks and sample mass per (split, task) */
        uint64_t cum = 0;
        for (j = i; j < e->n && (*order)[j]->ep.split == (*order)[i]->ep.split &&
                    (*order)[j]->ep.task == (*order)[i]->ep.task;
             j++) {
            /* +1: an episode without samples still gets its own place */
            uint64_t c = mvot_assemble_count(&(*order)[j]->ep, mode) + 1;
            (*order)[j]->rank = (uint32_t)(j - i);
            (*order)[j]->mid2 = 2 * cum + c;
            cum += c;
        }
        for (size_t k = i; k < j; k++)
            (*order)[k]->mass2 = 2 * cum;
    }
    qsort(*order, e->n, sizeof **order, cmp_position);
    assign_blocks(*order, e->n, shard_samples, mode);
cleanup:
    mvot_episode_reader_close(rd);
    if (st != MVOT_OK) {
        free(*order);
        *order = NULL;
    }
    return st;
}

/* The global blocks [first, end) a part packs: a contiguous 1/count of all blocks. */
static void part_blocks(struct pack_plan *pl, const struct mvot_pack_opts *o)
{
    uint64_t i = o->part_count ? o->part_index : 0, c = o->part_count ? o->part_count : 1;
    pl->total = pl->n ? pl->order[pl->n - 1]->gblock + 1 : 0;
    pl->first = (uint32_t)((uint64_t)pl->total * i / c);
    pl->end = (uint32_t)((uint64_t)pl->total * (i + 1) / c);
}

enum mvot_status mvot__pack_plan_load(const char *arch, const struct mvot_pack_opts *o,
                                      struct pack_plan *pl, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_index *ix = NULL;
    memset(pl, 0, sizeof *pl);
    /* One pass for the whole set. A part plans from the index (version 2) or from a stripped
     * pass (version 1), then reads its own episodes. */
    if (o->part_count)
        MVOT_TRY(mvot_tarz_index_open(arch, &ix, err));
    MVOT_TRY(load_episodes(arch, ix, o->seed, o->mode, o->shard_samples, o->part_count > 0, pl,
                           &pl->order, err));
    part_blocks(pl, o);
    if (o->part_count)
        MVOT_TRY(reload_range(arch, ix, pl, pl->first, pl->end, err));
cleanup:
    mvot_tarz_index_close(ix);
    return st;
}
