/* shards/card.c: the dataset card's front matter follows the manifest (one config per split
 * with exactly that split's shard files; one "all" config for version 1 sets), and carries
 * the license, the Meta note and the citation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shards/card.h"
#include "tests/test.h"

static json_t *manifest(int with_split)
{
    json_t *m =
        json_pack("{s:s,s:s,s:i,s:{s:i,s:i,s:i,s:i,s:i,s:i},s:{s:i,s:s},s:{s:s,s:i},"
                  "s:{s:{s:{s:i,s:i},s:{s:i}}}}",
                  "tool", "mvot-data 9.9", "mode", "mvot", "image_seq_length", 1024, "totals",
                  "samples", 1500, "tokens", 99, "supervised_tokens", 9, "shards", 3,
                  "max_sample_tokens", 3000, "over_mvot_lengths", 4, "tokenizer", "vocab_size",
                  65536, "token_dtype", "uint16", "codebook", "kind", "vqgan", "K", 8192, "stats",
                  "tasks", "maze", "train", 1000, "test", 400, "frozenlake", "test", 100);
    json_t *sh = json_array();
    const char *files[3][2] = {{"train/shard-00000-000000.tar.zst", "train"},
                               {"test/shard-00000-000000.tar.zst", "test"},
                               {"test/shard-00000-000001.tar.zst", "test"}};
    for (int i = 0; i < 3; i++) {
        char v1[32];
        snprintf(v1, sizeof v1, "shard-%06d.tar.zst", i);
        json_t *r = json_pack("{s:s}", "file", with_split ? files[i][0] : v1);
        if (with_split)
            json_object_set_new(r, "split", json_string(files[i][1]));
        json_array_append_new(sh, r);
    }
    json_object_set_new(m, "shards", sh);
    return m;
}

static void t_card_by_split(void)
{
    json_t *m = manifest(1);
    char *c = NULL;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_dataset_card(m, "shards/", &c, &err), &err);
    if (!c)
        return;
    ASSERT_TRUE(strncmp(c, "---\nlicense: cc-by-4.0\n", 23) == 0);
    ASSERT_CONTAINS(c, "- config_name: train\n  data_files:\n  - split: train\n    path:\n"
                       "    - shards/train/shard-00000-000000.tar.zst\n- config_name: test\n");
    ASSERT_CONTAINS(c, "- config_name: test\n  data_files:\n  - split: test\n    path:\n"
                       "    - shards/test/shard-00000-000000.tar.zst\n"
                       "    - shards/test/shard-00000-000001.tar.zst\ndataset_info:");
    ASSERT_TRUE(strstr(c, "config_name: dev") == NULL && strstr(c, "config_name: all") == NULL);
    ASSERT_CONTAINS(c, "- 1K<n<10K\n");
    ASSERT_CONTAINS(c, "    sequence: uint16\n");
    ASSERT_CONTAINS(c, "\n---\n\n# ");
    ASSERT_CONTAINS(c, "| maze | test | 400 |");
    ASSERT_CONTAINS(c, "4 samples exceed the official MVoT trainer's lengths");
    ASSERT_CONTAINS(c, "Meta's terms");
    ASSERT_CONTAINS(c, "This set was tokenized with a VQGAN");
    ASSERT_CONTAINS(c, "arXiv:2501.07542");
    free(c);
    json_decref(m);
}

static void t_card_v1(void)
{
    json_t *m = manifest(0);
    json_object_set_new(json_object_get(m, "codebook"), "kind", json_string("patch"));
    char *c = NULL;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_dataset_card(m, NULL, &c, &err), &err);
    if (!c)
        return;
    ASSERT_CONTAINS(c, "- config_name: all\n  data_files:\n  - split: all\n    path:\n"
                       "    - shard-000000.tar.zst\n    - shard-000001.tar.zst\n"
                       "    - shard-000002.tar.zst\ndataset_info:");
    ASSERT_CONTAINS(c, "format version 1");
    ASSERT_TRUE(strstr(c, "This set was tokenized with a VQGAN") == NULL);
    free(c);
    json_decref(m);
}

TEST_MAIN(t_card_by_split, t_card_v1)
