/* `--gpu` for pack and retokenize: loads the GPU module on demand and builds the image-encoder
 * hook of shards/pack.h on it, or says in one line why it cannot (exit 2 when the build or the
 * machine has no CUDA support, 1 when the encoder fails to start). */
#ifndef MVOT_TOOLS_GPU_CLI_H
#define MVOT_TOOLS_GPU_CLI_H

#include <stdint.h>

#include "shards/pack.h"
#include "tools/cli.h"

/* Returns -1 with *enc ready, else the exit code the command must return (already printed). */
int mvot_cli_gpu_encoder_open(struct mvot_cli *cli, const char *vq_path, uint32_t image_size,
                              struct mvot_image_encoder *enc);
/* Releases what open built; a zeroed encoder is a no-op. */
void mvot_cli_gpu_encoder_close(struct mvot_image_encoder *enc);

#endif
