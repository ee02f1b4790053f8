/* VQGAN codebook import (import.h). Only the quantizer tensor is read; the rest of the
 * checkpoint (encoder, decoder) is ignored, so encoder-only and full-model files work alike,
 * in any layout of core/checkpoint.h (one file, an index with shards, a folder). */
#include "codebook/import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/hash.h"
#include "core/safetensors.h"

static const char *const NAMES[] = {"model.vqmodel.quantize.embedding.weight",
                                    "quantize.embedding.weight"};

enum mvot_status mvot_codebook_import_vqgan(const char *path, struct mvot_codebook *out,
                                            struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_checkpoint *ck = NULL;
    const struct mvot_tensor *t = NULL;
    const char *file = path; /* the file that holds the tensor, for messages */
    memset(out, 0, sizeof *out);
    MVOT_TRY(mvot_checkpoint_open(path, &ck, err));
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0] && !t; i++) {
        MVOT_TRY(mvot_checkpoint_find(ck, NAMES[i], &t, err));
        file = mvot_checkpoint_file_of(ck, NAMES[i]);
    }
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, path,
                 "no quantize.embedding.weight (with or without the model.vqmodel. prefix): not "
                 "a VQGAN checkpoint");
    MVOT_FAIL_IF(t->ndim != 2 || t->shape[0] < 1 || t->shape[1] < 1 || t->shape[0] > (1 << 20) ||
                     t->shape[1] > (1 << 16),
                 err, MVOT_ERR_MISMATCH, file,
                 "tensor %s: expected a [K, D] matrix with 1 <= K <= 2^20, 1 <= D <= 2^16",
                 t->name);
    MVOT_FAIL_IF(t->dtype != MVOT_DT_F32 && t->dtype != MVOT_DT_F16 && t->dtype != MVOT_DT_BF16,
                 err, MVOT_ERR_UNSUPPORTED, file, "tensor %s: dtype %s is not F32, F16 or BF16",
                 t->name, mvot_dtype_name(t->dtype));
    out->kind = MVOT_CB_VQGAN;
    out->K = (uint32_t)t->shape[0];
    out->D = (uint32_t)t->shape[1];
    out->vec = malloc((size_t)out->K * out->D * sizeof *out->vec);
    MVOT_FAIL_IF(!out->vec, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_tensor_to_f32(t, out->vec, err));
    for (size_t i = 0; i < (size_t)out->K * out->D; i++)
        MVOT_CORRUPT_IF(!isfinite(out->vec[i]), err, file,
                        "tensor %s: non-finite value at code %zu", t->name, i / out->D);
    out->data_hash = mvot_hash64(t->data, t->nbytes);
    /* the name the user gave: a file, an index or a folder (trailing slashes dropped) */
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    const char *base = path + pl;
    while (base > path && base[-1] != '/')
        base--;
    out->stats = json_pack("{s:s%, s:s, s:s}", "source", base, (size_t)(path + pl - base), "tensor",
                           t->name, "dtype", mvot_dtype_name(t->dtype));
    MVOT_FAIL_IF(!out->stats, err, MVOT_ERR_NOMEM, path, "out of memory");
cleanup:
    if (st != MVOT_OK)
        mvot_codebook_free(out);
    mvot_checkpoint_close(ck);
    return st;
}
