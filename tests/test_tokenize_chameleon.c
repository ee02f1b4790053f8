/* Unit tests for tokenize/chameleon.c: image-code names, the layout read from a tokenizer by
 * names (here the untrained default layout of bpe_train), non-layout vocabularies refused,
 * and the ChameleonProcessor "<image>" expansion with the separator. */
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tokenize/chameleon.h"

static void test_code_names(void)
{
    char b[24];
    mvot_layout_code_name(0, b, sizeof b);
    ASSERT_EQ_STR(b, "IMGIMGAZ");
    mvot_layout_code_name(10, b, sizeof b);
    ASSERT_EQ_STR(b, "IMGIMGBAZ");
    mvot_layout_code_name(8191, b, sizeof b);
    ASSERT_EQ_STR(b, "IMGIMGIBJBZ");
    mvot_layout_code_name(909, b, sizeof b);
    ASSERT_EQ_STR(b, "IMGIMGJAJZ");
    mvot_layout_code_name(5, b, 4); /* too small: empty, never overflowing */
    ASSERT_EQ_STR(b, "");
}

static void test_layout(void)
{
    struct mvot_error err = {0};
    char *js = mvot_bpe_layout_json();
    ASSERT_TRUE(js != NULL);
    struct mvot_bpe *tok = NULL;
    ASSERT_OK(mvot_bpe_load_mem(js, strlen(js), "layout", &tok, &err), &err);
    free(js);
    if (!tok)
        return;
    struct mvot_layout *l = malloc(sizeof *l);
    ASSERT_OK(mvot_layout_from_bpe(tok, l, &err), &err);
    ASSERT_EQ_INT(l->n_codes, 8192);
    ASSERT_TRUE(l->contiguous);
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 4), 0);
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 8195), 8191);
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 8196), -1);
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 3), -1);
    ASSERT_EQ_INT(l->vocab_size, 8968);
    /* the same map through the non-contiguous path */
    l->contiguous = 0;
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 4 + 1234), 1234);
    ASSERT_EQ_INT(mvot_layout_id_to_code(l, 8711), -1);

    /* expansion: BOI + N placeholders + EOI for each <image>, separator at the end, BOS */
    struct mvot_ids ids = {0};
    const char *p = "Initial maze: <image>\nResponse: ";
    ASSERT_OK(mvot_layout_encode_prompt(tok, p, strlen(p), 4, 1, &ids, &err), &err);
    ASSERT_EQ_INT(ids.v[0], l->bos);
    size_t k = 0, boi_at = 0;
    for (size_t i = 0; i < ids.n; i++)
        if (ids.v[i] == l->boi) {
            k++;
            boi_at = i;
        }
    ASSERT_EQ_INT(k, 1);
    for (size_t i = 1; i <= 4; i++)
        ASSERT_EQ_INT(ids.v[boi_at + i], l->image);
    ASSERT_EQ_INT(ids.v[boi_at + 5], l->eoi);
    ASSERT_EQ_INT(ids.v[ids.n - 1], l->sep);
    char *s = NULL;
    size_t sl = 0;
    ASSERT_OK(mvot_layout_expand_images("<image>x<image>", 15, 2, 0, &s, &sl, &err), &err);
    ASSERT_EQ_STR(s, "<racm3:break><image><image><eoss>x<racm3:break><image><image><eoss>");
    ASSERT_EQ_INT(sl, strlen(s));
    free(s);
    mvot_ids_free(&ids);
    free(l);
    mvot_bpe_free(tok);
}

static void test_not_a_layout(void)
{
    static const char J[] =
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<s>\":0,\"</s>\":1,\"a\":2},\"merges\":[]}}";
    struct mvot_error err = {0};
    struct mvot_bpe *tok = NULL;
    ASSERT_OK(mvot_bpe_load_mem(J, sizeof J - 1, "tiny", &tok, &err), &err);
    if (!tok)
        return;
    struct mvot_layout *l = malloc(sizeof *l);
    ASSERT_EQ_INT(mvot_layout_from_bpe(tok, l, &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, "<racm3:break>");
    free(l);
    mvot_bpe_free(tok);
}

TEST_MAIN(test_code_names, test_layout, test_not_a_layout)
