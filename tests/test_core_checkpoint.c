/* core/checkpoint: the three checkpoint layouts (one file, index + shards, a folder) on a
 * synthetic Chameleon-style checkpoint: language-model tensors in BF16 and the VQGAN's
 * model.vqmodel.* tensors in FP32 and BF16, spread over three shard files. Checks lookups
 * across shards, lazy opening (a missing language-model shard does not stop the VQGAN), the
 * layout-independent tensor hash, one-line errors naming the file for every broken index,
 * the messages for a folder or an index given where a .safetensors file belongs, and that
 * `codebook import` gives the same codebook from every layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codebook/import.h"
#include "core/checkpoint.h"
#include "core/io.h"
#include "test.h"
#include "test_ckpt_fixture.h"

#define NT 8

static uint16_t g_bf16[4096];
static float g_f32[4096];

/* The tensors, with real Chameleon names and tiny shapes. */
static void tensors(struct mvot_tensor_out *t)
{
    for (int i = 0; i < 4096; i++) {
        g_f32[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        g_bf16[i] = mvot_f32_to_bf16(g_f32[i] * 0.5f);
    }
    const struct mvot_tensor_out v[NT] = {
        {"model.embed_tokens.weight", MVOT_DT_BF16, 2, {32, 8}, g_bf16},
        {"model.layers.0.self_attn.q_proj.weight", MVOT_DT_BF16, 2, {8, 8}, g_bf16 + 1},
        {"lm_head.weight", MVOT_DT_BF16, 2, {32, 8}, g_bf16 + 2},
        {"model.vqmodel.encoder.conv_in.weight", MVOT_DT_F32, 4, {32, 3, 3, 3}, g_f32},
        {"model.vqmodel.encoder.conv_in.bias", MVOT_DT_F32, 1, {32}, g_f32 + 1},
        {"model.vqmodel.quantize.embedding.weight", MVOT_DT_F32, 2, {16, 8}, g_f32 + 2},
        {"model.vqmodel.quant_conv.weight", MVOT_DT_BF16, 4, {8, 8, 1, 1}, g_bf16 + 3},
        {"model.vqmodel.post_quant_conv.weight", MVOT_DT_BF16, 4, {8, 8, 1, 1}, g_bf16 + 4},
    };
    memcpy(t, v, sizeof v);
}

/* shard 1: language model only; shard 2: FP32 VQGAN tensors; shard 3: BF16 of both */
static const int SHARD_OF[NT] = {0, 0, 2, 1, 1, 1, 2, 2};

static char *make_sharded(void)
{
    struct mvot_tensor_out t[NT];
    tensors(t);
    char *dir = t_tmpdir();
    ASSERT_TRUE(dir && ckfx_write_sharded(dir, t, NT, SHARD_OF, 3) == 0);
    return dir;
}

static void rmtree(char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(dir);
}

static void check_all(struct mvot_checkpoint *c)
{
    struct mvot_tensor_out t[NT];
    struct mvot_error err = {0};
    tensors(t);
    for (int i = 0; i < NT; i++) {
        const struct mvot_tensor *x = NULL;
        ASSERT_OK(mvot_checkpoint_find(c, t[i].name, &x, &err), &err);
        if (!x) {
            T_FAIL("%s not found", t[i].name);
            continue;
        }
        ASSERT_EQ_INT(x->dtype, t[i].dtype);
        ASSERT_EQ_INT(x->ndim, t[i].ndim);
        ASSERT_TRUE(memcmp(x->data, t[i].data, x->nbytes) == 0);
    }
    const struct mvot_tensor *none = (const struct mvot_tensor *)1;
    ASSERT_OK(mvot_checkpoint_find(c, "model.vqmodel.decoder.conv_in.weight", &none, &err), &err);
    ASSERT_TRUE(none == NULL);
}

static void test_index_and_folder(void)
{
    char *dir = make_sharded();
    char idx[1024];
    struct mvot_error err = {0};
    struct mvot_checkpoint *c = NULL;
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    for (int k = 0; k < 2; k++) {
        ASSERT_OK(mvot_checkpoint_open(k ? dir : idx, &c, &err), &err);
        if (!c)
            continue;
        ASSERT_EQ_INT(mvot_checkpoint_layout(c), MVOT_CKPT_INDEX);
        check_all(c);
        ASSERT_CONTAINS(mvot_checkpoint_file_of(c, "model.vqmodel.quant_conv.weight"),
                        "/model-00003-of-00003.safetensors");
        ASSERT_TRUE(mvot_checkpoint_metadata(c) == NULL);
        const char **names = NULL;
        size_t n = 0;
        ASSERT_OK(mvot_checkpoint_names(c, "model.vqmodel.", &names, &n, &err), &err);
        ASSERT_EQ_INT(n, 5);
        if (n == 5) {
            ASSERT_EQ_STR(names[0], "model.vqmodel.encoder.conv_in.bias");
            ASSERT_EQ_STR(names[4], "model.vqmodel.quantize.embedding.weight");
        }
        free(names);
        mvot_checkpoint_close(c);
        c = NULL;
    }
    rmtree(dir);
}

/* The same tensors in one model.safetensors hash the same as the shards. */
static void test_single_file_same_hash(void)
{
    char *dir = make_sharded(), *one = t_tmpdir();
    char path[1024];
    struct mvot_tensor_out t[NT];
    struct mvot_error err = {0};
    struct mvot_checkpoint *a = NULL, *b = NULL;
    tensors(t);
    snprintf(path, sizeof path, "%s/model.safetensors", one);
    ASSERT_OK(mvot_st_write(path, t, NT, NULL, &err), &err);
    ASSERT_OK(mvot_checkpoint_open(dir, &a, &err), &err);
    ASSERT_OK(mvot_checkpoint_open(one, &b, &err), &err);
    if (a && b) {
        ASSERT_EQ_INT(mvot_checkpoint_layout(b), MVOT_CKPT_FILE);
        check_all(b);
        uint64_t ha = 0, hb = 1, hlm = 0;
        ASSERT_OK(mvot_checkpoint_hash_tensors(a, "model.vqmodel.", &ha, &err), &err);
        ASSERT_OK(mvot_checkpoint_hash_tensors(b, "model.vqmodel.", &hb, &err), &err);
        ASSERT_OK(mvot_checkpoint_hash_tensors(b, "model.", &hlm, &err), &err);
        ASSERT_EQ_U64(ha, hb);
        ASSERT_TRUE(ha != hlm);
    }
    mvot_checkpoint_close(a);
    mvot_checkpoint_close(b);
    rmtree(dir);
    rmtree(one);
}

/* Shards are opened on demand: without the language-model shard the VQGAN still loads, and
 * asking for a tensor of the missing shard names that file. */
static void test_missing_shard(void)
{
    char *dir = make_sharded();
    char path[1024];
    struct mvot_error err = {0};
    struct mvot_checkpoint *c = NULL;
    const struct mvot_tensor *t = NULL;
    snprintf(path, sizeof path, "%s/model-00001-of-00003.safetensors", dir);
    ASSERT_EQ_INT(unlink(path), 0);
    ASSERT_OK(mvot_checkpoint_open(dir, &c, &err), &err);
    if (c) {
        ASSERT_OK(mvot_checkpoint_find(c, "model.vqmodel.quantize.embedding.weight", &t, &err),
                  &err);
        ASSERT_TRUE(t != NULL);
        ASSERT_EQ_INT(mvot_checkpoint_find(c, "model.embed_tokens.weight", &t, &err), MVOT_ERR_IO);
        ASSERT_CONTAINS(err.msg, "model-00001-of-00003.safetensors: missing");
        ASSERT_CONTAINS(err.msg, "model.embed_tokens.weight");
        ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
    }
    mvot_checkpoint_close(c);
    rmtree(dir);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    struct mvot_error err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ASSERT_OK(mvot_io_write_file(path, text, strlen(text), &err), &err);
}

static void expect_open_error(const char *path, enum mvot_status code, const char *needle)
{
    struct mvot_error err = {0};
    struct mvot_checkpoint *c = (struct mvot_checkpoint *)1;
    ASSERT_EQ_INT(mvot_checkpoint_open(path, &c, &err), code);
    ASSERT_TRUE(c == NULL);
    ASSERT_CONTAINS(err.msg, needle);
    ASSERT_CONTAINS(err.msg, path);
}

static void test_bad_index(void)
{
    char *dir = make_sharded();
    char idx[1024];
    struct mvot_error err = {0};
    snprintf(idx, sizeof idx, "%s/bad.index.json", dir);
    write_text(dir, "bad.index.json",
               "{\"weight_map\": {\"model.vqmodel.x\": \"../model-00002-of-00003.safetensors\"}}");
    expect_open_error(idx, MVOT_ERR_CORRUPT, "weight_map[\"model.vqmodel.x\"]: not a file name");
    write_text(dir, "bad.index.json", "{\"weight_map\": {\"a\": 3}}");
    expect_open_error(idx, MVOT_ERR_CORRUPT, "weight_map[\"a\"]");
    write_text(dir, "bad.index.json", "{\"metadata\": {}}");
    expect_open_error(idx, MVOT_ERR_CORRUPT, "no \"weight_map\" object");
    write_text(dir, "bad.index.json", "{\"weight_map\": ");
    expect_open_error(idx, MVOT_ERR_CORRUPT, "bad.index.json");
    /* the index points at a shard that lacks the tensor */
    write_text(dir, "bad.index.json",
               "{\"weight_map\": {\"model.vqmodel.decoder.conv_in.weight\": "
               "\"model-00002-of-00003.safetensors\"}}");
    struct mvot_checkpoint *c = NULL;
    const struct mvot_tensor *t = NULL;
    ASSERT_OK(mvot_checkpoint_open(idx, &c, &err), &err);
    if (c) {
        ASSERT_EQ_INT(mvot_checkpoint_find(c, "model.vqmodel.decoder.conv_in.weight", &t, &err),
                      MVOT_ERR_CORRUPT);
        ASSERT_CONTAINS(err.msg, "model-00002-of-00003.safetensors: no tensor "
                                 "model.vqmodel.decoder.conv_in.weight, though");
    }
    mvot_checkpoint_close(c);
    char *empty = t_tmpdir();
    expect_open_error(empty, MVOT_ERR_NOTFOUND,
                      "neither model.safetensors.index.json nor model.safetensors");
    rmtree(empty);
    rmtree(dir);
}

/* The two errors of the issue: a folder and an index given to the plain safetensors reader
 * now say what they are instead of "mmap failed" and an absurd header length. */
static void test_safetensors_messages(void)
{
    char *dir = make_sharded();
    char idx[1024];
    struct mvot_error err = {0};
    struct mvot_safetensors *st = NULL;
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    ASSERT_TRUE(mvot_st_open(idx, &st, &err) != MVOT_OK);
    ASSERT_CONTAINS(err.msg, "a JSON file (a model.safetensors.index.json?), not safetensors");
    ASSERT_EQ_INT(mvot_st_open(dir, &st, &err), MVOT_ERR_IO);
    ASSERT_CONTAINS(err.msg, "not a regular file (a directory)");
    ASSERT_TRUE(st == NULL);
    rmtree(dir);
}

/* codebook import reads the same quantizer from every layout. */
static void test_import_layouts(void)
{
    char *dir = make_sharded(), *one = t_tmpdir();
    char idx[1024], file[1024];
    struct mvot_tensor_out t[NT];
    struct mvot_error err = {0};
    tensors(t);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    snprintf(file, sizeof file, "%s/model.safetensors", one);
    ASSERT_OK(mvot_st_write(file, t, NT, NULL, &err), &err);
    const char *paths[3] = {file, idx, dir};
    struct mvot_codebook cb[3];
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(mvot_codebook_import_vqgan(paths[i], &cb[i], &err), &err);
        ASSERT_EQ_INT(cb[i].K, 16);
        ASSERT_EQ_INT(cb[i].D, 8);
    }
    for (int i = 1; i < 3; i++) {
        ASSERT_EQ_U64(cb[i].data_hash, cb[0].data_hash);
        ASSERT_TRUE(cb[i].vec && cb[0].vec &&
                    memcmp(cb[i].vec, cb[0].vec, 16 * 8 * sizeof(float)) == 0);
    }
    const char *base = strrchr(dir, '/') + 1;
    ASSERT_EQ_STR(json_string_value(json_object_get(cb[2].stats, "source")), base);
    ASSERT_EQ_STR(json_string_value(json_object_get(cb[1].stats, "source")),
                  "model.safetensors.index.json");
    for (int i = 0; i < 3; i++)
        mvot_codebook_free(&cb[i]);
    rmtree(dir);
    rmtree(one);
}

TEST_MAIN(test_index_and_folder, test_single_file_same_hash, test_missing_shard, test_bad_index,
          test_safetensors_messages, test_import_layouts)
