/* imagetok over VQGAN checkpoints and codebook import: a small random-weight Chameleon-layout
 * VQGAN written by tests/vqgan/ref.py (PyTorch from Debian's python3-torch; skipped when it is
 * missing) must be detected by its tensor names (with the model.vqmodel. prefix and without),
 * encode through the Chameleon preprocessing exactly like tokenize/vqgan.h does, agree with
 * PyTorch's codes and decoded pixels, and import as a vqgan codebook. An encoder-only copy
 * without the prefix encodes identically and refuses to decode with a clear error. Import of
 * hand-made checkpoints (bf16/f16, missing tensor, wrong dtype) runs without python. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codebook/import.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/safetensors.h"
#include "tests/test.h"
#include "tokenize/imagetok.h"
#include "tokenize/imgprep.h"
#include "tokenize/vqgan.h"

static int have_torch(void)
{
    return system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
}

static int run_ref(const char *dir, const char *extra)
{
    const char *src = getenv("MVOT_SRC");
    char *cmd = mvot_strdupf("/usr/bin/python3 %s/tests/vqgan/ref.py --out %s --ch 32 --size 128 "
                             "--K 512 --seed 3 %s >/dev/null",
                             src ? src : "..", dir, extra);
    int rc = cmd ? system(cmd) : -1;
    free(cmd);
    return rc;
}

static uint8_t *load_npy(const char *dir, const char *name, struct mvot_npy *out)
{
    struct mvot_error err = {0};
    char *p = mvot_io_join(dir, name);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (mvot_io_read_file(p, 1 << 26, &buf, &len, &err) != MVOT_OK ||
        mvot_npy_parse(buf, len, p, out, &err) != MVOT_OK) {
        T_FAIL("%s", err.msg);
        free(buf);
        buf = NULL;
    }
    free(p);
    return buf;
}

static void test_vqgan_dispatch(void)
{
    if (!have_torch())
        T_SKIP("/usr/bin/python3 has no torch (Debian python3-torch)");
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    ASSERT_EQ_INT(run_ref(dir, "--prefix model.vqmodel."), 0);
    char *vqp = mvot_io_join(dir, "vq.safetensors");
    struct mvot_imagetok *t = NULL;
    ASSERT_OK(mvot_imagetok_open(vqp, 128, 2, &t, &err), &err);
    if (!t)
        return;
    struct mvot_imagetok_info info;
    mvot_imagetok_get_info(t, &info);
    ASSERT_EQ_INT(info.kind, MVOT_IMAGETOK_VQGAN);
    ASSERT_EQ_INT(info.grid, 8);
    ASSERT_EQ_INT(info.K, 512);
    ASSERT_EQ_INT(info.D, 256);
    ASSERT_TRUE(info.can_decode);

    struct mvot_npy u8, rc, rd;
    uint8_t *b1 = load_npy(dir, "input_u8.npy", &u8);
    uint8_t *b2 = load_npy(dir, "codes.npy", &rc);
    uint8_t *b3 = load_npy(dir, "decoded.npy", &rd);
    if (!b1 || !b2 || !b3)
        return;
    struct mvot_image img;
    mvot_image_init(&img, 128, 128, 3);
    memcpy(img.px, u8.data, 128 * 128 * 3);
    int32_t codes[64], direct[64];
    ASSERT_OK(mvot_imagetok_encode(t, &img, codes, &err), &err);
    /* Same as calling the model directly on the normalized pixels. */
    struct mvot_vqgan *m = NULL;
    ASSERT_OK(mvot_vqgan_load(vqp, NULL, &m, &err), &err);
    float *pix = malloc(3 * 128 * 128 * sizeof *pix);
    mvot_imgprep_normalize(img.px, 128, pix);
    ASSERT_OK(mvot_vqgan_encode(m, pix, 128, direct, NULL, &err), &err);
    ASSERT_TRUE(memcmp(codes, direct, sizeof codes) == 0);
    /* And (nearly) the same as PyTorch. */
    int same = 0;
    for (int i = 0; i < 64; i++) {
        int32_t want;
        memcpy(&want, rc.data + 4 * i, 4);
        same += want == codes[i];
    }
    ASSERT_TRUE(same >= 63);
    /* Decode: torch's decoded floats, postprocessed, within one level. */
    int32_t tc[64];
    memcpy(tc, rc.data, sizeof tc);
    struct mvot_image dec = {0}, ref = {0};
    ASSERT_OK(mvot_imagetok_decode(t, tc, &dec, &err), &err);
    ASSERT_OK(mvot_imgprep_from_tensor((const float *)rd.data, 128, &ref, &err), &err);
    size_t close = 0;
    for (size_t i = 0; dec.px && ref.px && i < 128 * 128 * 3; i++)
        close += abs((int)dec.px[i] - (int)ref.px[i]) <= 1;
    ASSERT_TRUE(close >= 128 * 128 * 3 * 99 / 100);
    /* A non-square RGBA input is preprocessed, not refused. */
    struct mvot_image rgba;
    mvot_image_init(&rgba, 200, 150, 4);
    memset(rgba.px, 90, (size_t)200 * 150 * 4);
    ASSERT_OK(mvot_imagetok_encode(t, &rgba, codes, &err), &err);
    mvot_image_free(&rgba);
    /* The codebook is the checkpoint's. */
    struct mvot_codebook cb;
    ASSERT_OK(mvot_codebook_import_vqgan(vqp, &cb, &err), &err);
    ASSERT_EQ_INT(cb.kind, MVOT_CB_VQGAN);
    ASSERT_EQ_INT(cb.K, 512);
    ASSERT_TRUE(cb.vec && memcmp(cb.vec, mvot_imagetok_codebook(t), 512 * 256 * 4) == 0);
    /* An imported codebook cannot tokenize images: clear error. */
    char *cbp = mvot_io_join(dir, "cb.safetensors");
    ASSERT_OK(mvot_codebook_save(cbp, &cb, &err), &err);
    struct mvot_imagetok *t2 = NULL;
    ASSERT_EQ_INT(mvot_imagetok_open(cbp, 128, 1, &t2, &err), MVOT_ERR_UNSUPPORTED);
    ASSERT_CONTAINS(err.msg, "vqgan codebook");
    mvot_codebook_free(&cb);
    free(cbp);
    mvot_image_free(&dec);
    mvot_image_free(&ref);
    mvot_vqgan_free(m);
    free(pix);
    free(b1);
    free(b2);
    free(b3);
    mvot_imagetok_free(t);
    t = NULL;

    /* Encoder-only, no prefix (written here from the same tensors: the prefix dropped and
     * every decoder.* / post_quant_conv.* tensor left out): detected, encodes to the same
     * codes, refuses to decode with a clear error. */
    char *vq2 = mvot_io_join(dir, "enc_only.safetensors");
    {
        struct mvot_safetensors *sf = NULL;
        ASSERT_OK(mvot_st_open(vqp, &sf, &err), &err);
        size_t n = sf ? mvot_st_count(sf) : 0, k = 0;
        struct mvot_tensor_out *to = calloc(n ? n : 1, sizeof *to);
        for (size_t i = 0; i < n; i++) {
            const struct mvot_tensor *x = mvot_st_at(sf, i);
            const char *name = x->name;
            if (strncmp(name, "model.vqmodel.", 14) == 0)
                name += 14;
            if (strncmp(name, "decoder.", 8) == 0 || strncmp(name, "post_quant_conv.", 16) == 0)
                continue;
            to[k].name = name;
            to[k].dtype = x->dtype;
            to[k].ndim = x->ndim;
            memcpy(to[k].shape, x->shape, sizeof x->shape);
            to[k].data = x->data;
            k++;
        }
        ASSERT_TRUE(k > 0 && k < n);
        ASSERT_OK(mvot_st_write(vq2, to, k, NULL, &err), &err);
        free(to);
        mvot_st_close(sf);
    }
    ASSERT_OK(mvot_imagetok_open(vq2, 128, 1, &t, &err), &err);
    if (t) {
        mvot_imagetok_get_info(t, &info);
        ASSERT_EQ_INT(info.kind, MVOT_IMAGETOK_VQGAN);
        ASSERT_TRUE(!info.can_decode);
        int32_t again[64];
        ASSERT_OK(mvot_imagetok_encode(t, &img, again, &err), &err);
        ASSERT_TRUE(memcmp(again, direct, sizeof again) == 0);
        ASSERT_EQ_INT(mvot_imagetok_decode(t, again, &dec, &err), MVOT_ERR_UNSUPPORTED);
        ASSERT_CONTAINS(err.msg, "decoder");
        mvot_imagetok_free(t);
    }
    mvot_image_free(&img);
    free(vq2);
    free(vqp);
    free(dir);
}

static void test_import_handmade(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    uint16_t bf[6 * 4];
    float want[6 * 4];
    for (int i = 0; i < 24; i++) {
        want[i] = (float)(i - 12) * 0.25f;
        bf[i] = mvot_f32_to_bf16(want[i]);
    }
    struct mvot_tensor_out t = {
        "model.vqmodel.quantize.embedding.weight", MVOT_DT_BF16, 2, {6, 4}, bf};
    char *p = mvot_io_join(dir, "bf16.safetensors");
    ASSERT_OK(mvot_st_write(p, &t, 1, NULL, &err), &err);
    struct mvot_codebook cb;
    ASSERT_OK(mvot_codebook_import_vqgan(p, &cb, &err), &err);
    ASSERT_EQ_INT(cb.K, 6);
    ASSERT_EQ_INT(cb.D, 4);
    ASSERT_TRUE(cb.vec && memcmp(cb.vec, want, sizeof want) == 0);
    ASSERT_EQ_STR(json_string_value(json_object_get(cb.stats, "dtype")), "BF16");
    mvot_codebook_free(&cb);
    /* No quantizer tensor: not found, named. */
    struct mvot_tensor_out u = {"encoder.conv_in.weight", MVOT_DT_BF16, 2, {6, 4}, bf};
    char *q = mvot_io_join(dir, "noq.safetensors");
    ASSERT_OK(mvot_st_write(q, &u, 1, NULL, &err), &err);
    ASSERT_EQ_INT(mvot_codebook_import_vqgan(q, &cb, &err), MVOT_ERR_NOTFOUND);
    ASSERT_CONTAINS(err.msg, "quantize.embedding.weight");
    /* Integer dtype: unsupported. */
    int32_t iv[24] = {0};
    struct mvot_tensor_out w = {"quantize.embedding.weight", MVOT_DT_I32, 2, {6, 4}, iv};
    char *r = mvot_io_join(dir, "int.safetensors");
    ASSERT_OK(mvot_st_write(r, &w, 1, NULL, &err), &err);
    ASSERT_EQ_INT(mvot_codebook_import_vqgan(r, &cb, &err), MVOT_ERR_UNSUPPORTED);
    /* A 3-D tensor: mismatch. */
    struct mvot_tensor_out x = {"quantize.embedding.weight", MVOT_DT_F32, 3, {2, 3, 1}, want};
    ASSERT_OK(mvot_st_write(r, &x, 1, NULL, &err), &err);
    ASSERT_EQ_INT(mvot_codebook_import_vqgan(r, &cb, &err), MVOT_ERR_MISMATCH);
    free(p);
    free(q);
    free(r);
    free(dir);
}

TEST_MAIN(test_vqgan_dispatch, test_import_handmade)
