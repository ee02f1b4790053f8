/* Import of a VQGAN checkpoint's quantizer codebook (`quantize.embedding.weight`, K x D, with
 * or without the "model.vqmodel." prefix, F32/F16/BF16) as a kind "vqgan" codebook
 * (docs/codebook-format.md). */
#ifndef MVOT_CODEBOOK_IMPORT_H
#define MVOT_CODEBOOK_IMPORT_H

#include "codebook/codebook.h"
#include "core/status.h"

/* out is initialized by the call (mvot_codebook_free). data_hash is the XXH3 of the source
 * tensor's bytes; stats records the source file name, tensor name and dtype. */
enum mvot_status mvot_codebook_import_vqgan(const char *checkpoint, struct mvot_codebook *out,
                                            struct mvot_error *err);

#endif
