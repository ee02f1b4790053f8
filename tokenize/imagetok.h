/* One interface over the two frozen image tokenizers: the built-in patch VQ (a patch
 * codebook) and the Chameleon/Anole VQGAN (safetensors weights). Handles are immutable
 * after open; encode and decode are safe to call from many threads at once. */
#ifndef MVOT_TOKENIZE_IMAGETOK_H
#define MVOT_TOKENIZE_IMAGETOK_H

#include <stdint.h>

#include "core/png.h"
#include "core/status.h"

enum mvot_imagetok_kind { MVOT_IMAGETOK_PATCH = 0, MVOT_IMAGETOK_VQGAN = 1 };

struct mvot_imagetok;

struct mvot_imagetok_info {
    enum mvot_imagetok_kind kind;
    uint32_t image_size; /* S */
    uint32_t grid;       /* S / 16: codes per side */
    uint32_t K;          /* codebook size */
    uint32_t D;          /* code dimension */
    uint64_t hash;       /* identity: XXH3 of the codebook or weights file; for a sharded
                          * checkpoint, mvot_checkpoint_hash_tensors over its VQGAN tensors */
    int can_decode;
};

/* What decoding without a decoder says, after the checkpoint's name (docs/codebook-format.md,
 * "Checkpoint layouts"). */
#define MVOT_IMAGETOK_NO_DECODER                                                               \
    "this VQGAN checkpoint has no decoder.* tensors (encoder-only, like the Hugging Face "     \
    "conversion of facebook/chameleon-7b); decoding, mvot inspect, eval's visual metrics and " \
    "augmentation need one: convert Meta's vqgan.ckpt with tools/python/convert_vqgan_ckpt.py"

/* Opens a patch codebook (kind "patch" in its metadata) or a VQGAN checkpoint (detected
 * by its tensor names), for frames of side image_size (512, 256 or 128). A VQGAN checkpoint
 * may be one file, a model.safetensors.index.json or a model folder (core/checkpoint.h). */
enum mvot_status mvot_imagetok_open(const char *path, uint32_t image_size, int threads,
                                    struct mvot_imagetok **out, struct mvot_error *err);
void mvot_imagetok_free(struct mvot_imagetok *t);
void mvot_imagetok_get_info(const struct mvot_imagetok *t, struct mvot_imagetok_info *out);

/* Encodes an image into grid*grid codes, row-major. Images that are not S x S RGB go
 * through the Chameleon preprocessing (alpha composite, LANCZOS resize, center crop). */
enum mvot_status mvot_imagetok_encode(const struct mvot_imagetok *t, const struct mvot_image *img,
                                      int32_t *codes, struct mvot_error *err);
/* Decodes grid*grid codes into an S x S RGB image (initialized by the call). */
enum mvot_status mvot_imagetok_decode(const struct mvot_imagetok *t, const int32_t *codes,
                                      struct mvot_image *out, struct mvot_error *err);
/* MVoT's augment_image: encode -> decode repeated k times (k = 0 returns the preprocessed
 * S x S RGB input). `out` is initialized by the call. Deterministic: the result depends only
 * on the image, k and the tokenizer. */
enum mvot_status mvot_imagetok_roundtrip(const struct mvot_imagetok *t,
                                         const struct mvot_image *img, uint32_t k,
                                         struct mvot_image *out, struct mvot_error *err);
/* The codebook (K x D, row-major), borrowed for the handle's lifetime. */
const float *mvot_imagetok_codebook(const struct mvot_imagetok *t);

#endif
