/* Patch sets from gen episode archives: episodes are read in archive order, their frame PNGs
 * decoded and deduplicated on the pool in batches, and merged on the calling thread. Kept
 * apart from patchset.c so programs that only use in-memory frames do not link gen's
 * archive reader. */
#include <stdlib.h>
#include <string.h>

#include "codebook/patchset.h"
#include "codebook/patchset_internal.h"
#include "codebook/train.h"
#include "core/io.h"
#include "gen/episode.h"

/* Frames are decoded in batches so memory holds one batch of PNGs, not the archive. */
#define ARCHIVE_BATCH 256

struct batch {
    uint8_t *png[ARCHIVE_BATCH];
    size_t png_len[ARCHIVE_BATCH];
    char *names[ARCHIVE_BATCH];
    size_t n;
};

static void batch_clear(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->png[i]);
        free(b->names[i]);
        b->png[i] = NULL;
        b->names[i] = NULL;
    }
    b->n = 0;
}

static enum mvot_status batch_flush(struct batch *b, struct mvot_patchset_job *job,
                                    struct mvot_pool *pool, const struct mvot_progress *prog,
                                    struct mvot_error *err)
{
    enum mvot_status st =
        mvot_pool_map_ordered(pool, b->n, 0, mvot_patchset_frame_work, mvot_patchset_frame_emit,
                              mvot_patchset_frame_discard, job, err);
    batch_clear(b);
    mvot_progress_report(prog, "reading frames", job->out->frames, job->frames_hint);
    return st;
}

enum mvot_status mvot_patchset_from_archive(const char *path, uint32_t patch, size_t max_distinct,
                                            struct mvot_pool *pool,
                                            const struct mvot_progress *prog,
                                            struct mvot_patchset *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    struct mvot_episode ep = {0};
    struct batch *b = calloc(1, sizeof *b);
    uint64_t episodes = 0;
    int done = 0;
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(!b, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_patchset_init(out, patch, max_distinct, err));
    struct mvot_patchset_job job = {NULL, b->png, b->png_len, b->names, patch, out, 0};
    uint64_t episodes_hint;
    mvot_episode_archive_totals(path, &episodes_hint, &job.frames_hint);
    MVOT_TRY(mvot_episode_reader_open(path, &rd, err));
    mvot_progress_report(prog, "reading frames", 0, job.frames_hint); /* starts the clock */
    for (;;) {
        MVOT_TRY(mvot_episode_reader_next(rd, &ep, &done, err));
        if (done)
            break;
        episodes++;
        for (uint32_t f = 0; f < ep.n_frames; f++) {
            if (b->n == ARCHIVE_BATCH)
                MVOT_TRY(batch_flush(b, &job, pool, prog, err));
            /* Take the PNG buffer out of the episode instead of copying it. */
            b->png[b->n] = ep.frame_png[f];
            b->png_len[b->n] = ep.frame_png_len[f];
            ep.frame_png[f] = NULL;
            b->names[b->n] = mvot_strdupf("%s: episode %s frame %u", path, ep.key, f);
            b->n++;
            MVOT_FAIL_IF(!b->names[b->n - 1], err, MVOT_ERR_NOMEM, path, "out of memory");
        }
        mvot_episode_free(&ep);
        memset(&ep, 0, sizeof ep);
    }
    if (b->n)
        MVOT_TRY(batch_flush(b, &job, pool, prog, err));
    MVOT_FAIL_IF(out->frames == 0, err, MVOT_ERR_NOTFOUND, path, "no frames in %llu episodes",
                 (unsigned long long)episodes);
cleanup:
    if (b) {
        batch_clear(b);
        free(b);
    }
    mvot_episode_free(&ep);
    mvot_episode_reader_close(rd);
    if (st != MVOT_OK)
        mvot_patchset_free(out);
    return st;
}

enum mvot_status mvot_codebook_train_archive(const char *episodes_tar_zst,
                                             const struct mvot_kmeans_opts *opts,
                                             struct mvot_pool *pool,
                                             const struct mvot_progress *prog,
                                             struct mvot_codebook *out, struct mvot_error *err)
{
    struct mvot_patchset ps;
    memset(out, 0, sizeof *out);
    enum mvot_status st = mvot_patchset_from_archive(
        episodes_tar_zst, opts->patch, (size_t)opts->max_distinct, pool, prog, &ps, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_codebook_train_patchset(&ps, opts, pool, prog, out, err);
    if (st != MVOT_OK)
        mvot_error_prefix(err, "%s", episodes_tar_zst);
    mvot_patchset_free(&ps);
    return st;
}
