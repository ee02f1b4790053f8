/* Rendering samples back to pixels: the images of a sample decoded from its code runs (the
 * tokens between BOI and EOI) with the shard set's image tokenizer, and a contact sheet that
 * shows decoded images above the stored source frames. */
#ifndef MVOT_SHARDS_INSPECT_H
#define MVOT_SHARDS_INSPECT_H

#include <stddef.h>

#include "core/png.h"
#include "core/status.h"
#include "shards/reader.h"
#include "tokenize/chameleon.h"
#include "tokenize/imagetok.h"

/* Decodes every image run of s. *imgs is a new array of *n images (free each with
 * mvot_image_free, then the array). */
enum mvot_status mvot_sample_decode_images(const struct mvot_sample *s,
                                           const struct mvot_layout *lay,
                                           const struct mvot_imagetok *t, struct mvot_image **imgs,
                                           size_t *n, struct mvot_error *err);

/* One RGB sheet for a person: a header with the sample key, task, mode and step and a legend;
 * a caption over each column (image index, frame number, "target" for images the sample
 * supervises, which are also framed in green); the decoded images in a row labelled
 * "decoded (tokens)", and below them, labelled "source (frames)", the stored source frames
 * (decoded from PNG, resized by nearest neighbour to the same side) when present.
 * out is initialized by the call. */
enum mvot_status mvot_sample_contact_sheet(const struct mvot_sample *s,
                                           const struct mvot_image *decoded, size_t n,
                                           struct mvot_image *out, struct mvot_error *err);

/* Opens the tokenizer and image tokenizer a shard set names (its own copies). */
struct mvot_bpe;
enum mvot_status mvot_shard_set_tokenizers(struct mvot_shard_set *set, struct mvot_bpe **tok,
                                           struct mvot_layout *lay, struct mvot_imagetok **it,
                                           struct mvot_error *err);

/* One sample opened for viewing: the sample, its set's tokenizers and (when asked) its decoded
 * images. Owned by the view. */
struct mvot_sample_view {
    struct mvot_sample s;
    struct mvot_bpe *tok;
    struct mvot_layout lay;
    struct mvot_imagetok *it;
    struct mvot_image *imgs; /* ni decoded images, NULL until decoded */
    size_t ni;
};
/* Reads sample i of set and opens the set's tokenizers; with decode, also decodes the sample's
 * images (which needs an image tokenizer with a decoder). v is initialized by the call; free it
 * with mvot_sample_view_free, also after an error. */
enum mvot_status mvot_sample_view_open(struct mvot_shard_set *set, size_t i, int decode,
                                       struct mvot_sample_view *v, struct mvot_error *err);
void mvot_sample_view_free(struct mvot_sample_view *v);

#endif
