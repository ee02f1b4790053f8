/* Pack stage B (shards/pack_internal.h): one example -> token sequence and spans (length
 * policy applied), its json, and its tar members (docs/shard-format.md §1, §3). Runs in
 * worker threads through mvot_pool_map_ordered; results are emitted in item order. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "shards/pack_internal.h"

/* The episode, split and task of a sample (index fields; the writer groups by episode).
 * Retokenize takes them from the old sample's json: a v1 source has them nowhere else. */
static enum mvot_status sample_identity(const struct pack_unit *u, const char *key,
                                        struct mvot_sample_parts *parts, struct mvot_error *err)
{
    if (u->has_ep) {
        parts->episode_len = (uint16_t)strlen(u->ep.key);
        parts->split = (uint8_t)u->ep.split;
        parts->task = (uint8_t)u->ep.task;
        return MVOT_OK;
    }
    const json_t *m = u->old.meta;
    const char *ep = json_string_value(json_object_get(m, "episode"));
    const char *task = json_string_value(json_object_get(m, "task"));
    const char *split = json_string_value(json_object_get(m, "split"));
    enum mvot_task t;
    int sp = -1;
    for (int i = 0; split && i < 3; i++)
        if (strcmp(split, mvot_split_name((enum mvot_split)i)) == 0)
            sp = i;
    size_t el = ep ? strlen(ep) : 0;
    if (!ep || el > strlen(key) || strncmp(key, ep, el) != 0 || !task ||
        mvot_task_parse(task, &t) != 0 || sp < 0)
        return mvot_error_corrupt(err, key, -1,
                                  "sample json: episode (a prefix of the key), task or split "
                                  "missing or unknown");
    parts->episode_len = (uint16_t)el;
    parts->split = (uint8_t)sp;
    parts->task = (uint8_t)t;
    return MVOT_OK;
}

enum mvot_status mvot__pack_work(void *vc, size_t i, int worker, void **out, struct mvot_error *err)
{
    struct pack *p = vc;
    (void)worker;
    enum mvot_status st = MVOT_OK;
    const struct pack_item *it = &p->items[i];
    struct pack_unit *u = &p->units[it->unit];
    const struct mvot_example *ex = &u->ex[it->ex];
    struct mvot_ids t = {0};
    struct mvot_spans sp = {0};
    const int32_t **codes = NULL;
    uint32_t *tok32 = NULL;
    json_t *meta = NULL;
    char *js = NULL;
    struct pack_result *r = calloc(1, sizeof *r);
    MVOT_FAIL_IF(!r, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    codes = malloc((ex->n_images ? ex->n_images : 1) * sizeof *codes);
    MVOT_FAIL_IF(!codes, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (uint32_t k = 0; k < ex->n_images; k++)
        codes[k] = mvot__pack_codes_at(p, u, it->aug[k], ex->images[k]);
    MVOT_TRY(mvot_assemble_tokens(&p->as, ex->input_text, ex->label_text, codes, ex->n_images, &t,
                                  &sp, err));
    size_t n = t.n;
    int64_t truncated_from = -1;
    r->first_of_episode = it->ex == 0;
    if (p->o->max_length && n > p->o->max_length) {
        tok32 = malloc(n * sizeof *tok32);
        MVOT_FAIL_IF(!tok32, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        for (size_t k = 0; k < n; k++)
            tok32[k] = (uint32_t)t.v[k];
        size_t cut =
            p->o->length_policy == MVOT_LENGTH_TRUNCATE
                ? mvot_assemble_truncate_point(&p->as, tok32, n, sp.v, sp.n, p->o->max_length)
                : 0;
        if (cut == 0) {
            r->dropped = 1;
        } else {
            truncated_from = (int64_t)n;
            r->truncated = 1;
            n = cut;
            /* cut the spans at n */
            size_t k = 0;
            while (k < sp.n && sp.v[k].start < n)
                k++;
            sp.n = k;
            if (k && sp.v[k - 1].start + sp.v[k - 1].length > n)
                sp.v[k - 1].length = (uint32_t)(n - sp.v[k - 1].start);
        }
        free(tok32);
        tok32 = NULL;
    }
    if (u->has_ep) {
        snprintf(r->task, sizeof r->task, "%s", mvot_task_name(u->ep.task));
        snprintf(r->split, sizeof r->split, "%s", mvot_split_name(u->ep.split));
        snprintf(r->answer, sizeof r->answer, "%s", u->ep.answer);
        r->kind = mvot_example_kind_name(ex->kind);
    } else {
        const char *s;
        s = json_string_value(json_object_get(u->old.meta, "task"));
        snprintf(r->task, sizeof r->task, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "split"));
        snprintf(r->split, sizeof r->split, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "answer"));
        snprintf(r->answer, sizeof r->answer, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "kind"));
        r->kind = s && strcmp(s, "visualization") == 0 ? "visualization"
                  : s && strcmp(s, "reasoning") == 0   ? "reasoning"
                  : s && strcmp(s, "trajectory") == 0  ? "trajectory"
                  : s && strcmp(s, "cot") == 0         ? "cot"
                  : s && strcmp(s, "direct") == 0      ? "direct"
                                                       : "?";
        r->first_of_episode = 0; /* counted below from the old json */
        json_t *st_ = json_object_get(u->old.meta, "step");
        s = json_string_value(json_object_get(u->old.meta, "kind"));
        /* an episode's first sample: step 0 visualization, or any single-sample mode */
        r->first_of_episode = !s || strcmp(s, "reasoning") != 0
                                  ? (!json_is_integer(st_) || json_integer_value(st_) == 0)
                                  : 0;
    }
    if (r->dropped) {
        *out = r;
        r = NULL;
        goto cleanup;
    }
    for (size_t k = 0; k < sp.n; k++) {
        uint64_t len = sp.v[k].length;
        if (sp.v[k].modality == MVOT_MOD_TEXT)
            r->text += len;
        else if (sp.v[k].modality == MVOT_MOD_IMAGE) {
            r->image += len;
            r->images++;
        } else
            r->special += len;
        if (sp.v[k].loss)
            r->supervised += len;
    }
    mvot_trainer_fit(sp.v, sp.n, n, &r->fit);
    if (u->has_ep) {
        meta = mvot_assemble_meta(&u->ep, ex, p->o->mode, p->N, it->aug, n, truncated_from,
                                  p->o->store_frames);
    } else {
        meta = json_deep_copy(u->old.meta);
        if (meta) {
            json_object_set_new(meta, "n_tokens", json_integer((json_int_t)n));
            json_object_set_new(meta, "truncated",
                                truncated_from >= 0 ? json_integer(truncated_from) : json_null());
        }
    }
    MVOT_FAIL_IF(!meta, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    js = mvot_json_dumps(meta);
    MVOT_FAIL_IF(!js, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    tok32 = malloc((n ? n : 1) * sizeof *tok32);
    MVOT_FAIL_IF(!tok32, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (size_t k = 0; k < n; k++)
        tok32[k] = (uint32_t)t.v[k];
    const uint8_t *pngs[64];
    size_t png_len[64];
    uint32_t n_png = p->o->store_frames ? ex->n_images : 0;
    MVOT_FAIL_IF(n_png > 64, err, MVOT_ERR_INVALID, ex->key, "more than 64 images in a sample");
    for (uint32_t k = 0; k < n_png; k++) {
        pngs[k] = u->png[ex->images[k]];
        png_len[k] = u->png_len[ex->images[k]];
    }
    struct mvot_sample_parts parts = {ex->key, 0,    0,  0,          tok32, n,    p->wide,
                                      sp.v,    sp.n, js, strlen(js), n_png, pngs, png_len};
    MVOT_TRY(sample_identity(u, ex->key, &parts, err));
    MVOT_TRY(mvot_packed_sample_build(&parts, &r->ps, err));
    *out = r;
    r = NULL;
cleanup:
    if (r) {
        mvot_packed_sample_free(&r->ps);
        free(r);
    }
    mvot_ids_free(&t);
    mvot_spans_free(&sp);
    free(codes);
    free(tok32);
    json_decref(meta);
    free(js);
    return st;
}

void mvot__pack_discard(void *vc, void *res)
{
    (void)vc;
    struct pack_result *r = res;
    if (r) {
        mvot_packed_sample_free(&r->ps);
        free(r);
    }
}
