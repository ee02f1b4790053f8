/* Fuzz target for the sharded-checkpoint index (core/checkpoint.c): the input is written as a
 * folder's model.safetensors.index.json beside two fixed shard files (one holding VQGAN
 * tensors, one language-model tensor), and the folder is opened as --vqgan would open it.
 * Checks: a failure explains itself; every model.vqmodel.* name the index lists either finds a
 * tensor of that name in the file it is mapped to or fails with a message naming a file; the
 * tensor hash runs or fails the same way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[512], g_index[600];

static void cleanup(void)
{
    char p[700];
    static const char *const files[] = {"model.safetensors.index.json",
                                        "model-00001-of-00002.safetensors",
                                        "model-00002-of-00002.safetensors"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static void setup(void)
{
    static const float w[3 * 8 * 4] = {1.0f, -2.0f, 0.5f};
    static const uint16_t lm[16] = {0x3f80};
    struct mvot_error err = {0};
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mvot-fuzz-ckpt-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir))
        abort();
    atexit(cleanup);
    snprintf(g_index, sizeof g_index, "%s/model.safetensors.index.json", g_dir);
    const struct mvot_tensor_out a[2] = {
        {"model.vqmodel.quantize.embedding.weight", MVOT_DT_F32, 2, {8, 4}, w},
        {"model.vqmodel.encoder.conv_in.weight", MVOT_DT_F32, 4, {4, 3, 1, 1}, w},
    };
    const struct mvot_tensor_out b[1] = {{"lm_head.weight", MVOT_DT_BF16, 2, {4, 4}, lm}};
    char p[700];
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", g_dir);
    if (mvot_st_write(p, a, 2, NULL, &err) != MVOT_OK)
        abort();
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", g_dir);
    if (mvot_st_write(p, b, 1, NULL, &err) != MVOT_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_dir[0])
        setup();
    FILE *fp = fopen(g_index, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0)
        abort();
    struct mvot_checkpoint *c = NULL;
    struct mvot_error err = {0};
    if (mvot_checkpoint_open(g_dir, &c, &err) != MVOT_OK) {
        if (!err.msg[0] || c)
            abort();
        return 0;
    }
    if (mvot_checkpoint_layout(c) != MVOT_CKPT_INDEX || mvot_checkpoint_metadata(c))
        abort();
    const char **names = NULL;
    size_t n = 0;
    if (mvot_checkpoint_names(c, "model.vqmodel.", &names, &n, &err) != MVOT_OK)
        abort();
    for (size_t i = 0; i < n && i < 64; i++) {
        const struct mvot_tensor *t = NULL;
        memset(&err, 0, sizeof err);
        if (i && strcmp(names[i - 1], names[i]) > 0)
            abort(); /* sorted */
        if (mvot_checkpoint_find(c, names[i], &t, &err) == MVOT_OK) {
            if (!t || strcmp(t->name, names[i]) != 0 ||
                !strstr(mvot_checkpoint_file_of(c, names[i]), g_dir))
                abort();
        } else if (!err.msg[0] || t) {
            abort();
        }
    }
    free(names);
    uint64_t h = 0;
    memset(&err, 0, sizeof err);
    if (mvot_checkpoint_hash_tensors(c, "model.vqmodel.", &h, &err) != MVOT_OK && !err.msg[0])
        abort();
    mvot_checkpoint_close(c);
    return 0;
}
