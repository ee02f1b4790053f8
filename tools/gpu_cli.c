/* The --gpu plumbing shared by pack and retokenize (see tools/gpu_cli.h). */
#include "tools/gpu_cli.h"

#include <stdio.h>

#ifdef MVOT_HAVE_CUDA
#include "tools/cuda/gpu_vq.h"
#include "tools/gpu_plugin.h"
#endif

int mvot_cli_gpu_encoder_open(struct mvot_cli *cli, const char *vq_path, uint32_t image_size,
                              struct mvot_image_encoder *enc)
{
#ifdef MVOT_HAVE_CUDA
    char eb[512];
    /* the GPU module is loaded here, on demand: mvot itself links no CUDA library */
    if (!mvot_gpu_plugin_load(eb, sizeof eb)) {
        fprintf(stderr, "%s: --gpu: %s\n", cli->cmd, eb);
        return MVOT_EXIT_USAGE;
    }
    if (mvot_gpu_image_encoder_create(vq_path, image_size, enc, eb, sizeof eb) != 0) {
        fprintf(stderr, "%s: --gpu: %s\n", cli->cmd, eb);
        return MVOT_EXIT_FAIL;
    }
    return -1;
#else
    (void)vq_path;
    (void)image_size;
    (void)enc;
    return mvot_cli_usage(cli, "--gpu: this build has no CUDA (configure with -DMVOT_CUDA=ON)");
#endif
}

void mvot_cli_gpu_encoder_close(struct mvot_image_encoder *enc)
{
#ifdef MVOT_HAVE_CUDA
    if (enc->ctx)
        mvot_gpu_image_encoder_free(enc);
#else
    (void)enc;
#endif
}
