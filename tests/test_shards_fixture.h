/* Shared fixture of the shards tests: a tiny Chameleon-layout tokenizer.json (byte-level
 * BPE with a few merges, the specials and 8192 IMGIMG code names at the Chameleon ids), a
 * small gen archive and a patch codebook trained on it. Header-only (static functions). */
#ifndef MVOT_TESTS_SHARDS_FIXTURE_H
#define MVOT_TESTS_SHARDS_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "codebook/train.h"
#include "core/io.h"
#include "core/json.h"
#include "gen/gen.h"
#include "tokenize/chameleon.h"

static void fx_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

static json_t *fx_added(int id, const char *content)
{
    return json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b}", "id", id, "content", content, "single_word",
                     0, "lstrip", 0, "rstrip", 0, "normalized", 0, "special", 1);
}

/* Writes a Chameleon-layout tokenizer.json to path; 0 on success. */
static int fx_write_tokenizer(const char *path)
{
    json_t *vocab = json_object(), *added = json_array(), *merges = json_array();
    const char *sp[4] = {"<s>", "<pad>", "</s>", "<unk>"};
    for (int i = 0; i < 4; i++) {
        json_object_set_new(vocab, sp[i], json_integer(i));
        json_array_append_new(added, fx_added(i, sp[i]));
    }
    for (uint32_t c = 0; c < MVOT_CHAMELEON_CODES; c++) {
        char name[32];
        mvot_layout_code_name(c, name, sizeof name);
        json_object_set_new(vocab, name, json_integer(4 + (int)c));
    }
    json_object_set_new(vocab, "<eoss>", json_integer(8196));
    json_array_append_new(added, fx_added(8196, "<eoss>"));
    json_object_set_new(vocab, "<racm3:break>", json_integer(8197));
    json_array_append_new(added, fx_added(8197, "<racm3:break>"));
    for (int id = 8198; id <= 8710; id++) {
        char name[32];
        snprintf(name, sizeof name, "<reserved%05d>", id - 4);
        json_object_set_new(vocab, name, json_integer(id));
        if (id == 8710)
            json_array_append_new(added, fx_added(id, name));
    }
    json_object_set_new(vocab, "<image>", json_integer(8711));
    json_array_append_new(added, fx_added(8711, "<image>"));
    /* bytes_to_unicode */
    int next = 8712, extra = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174)
                          ? (uint32_t)b
                          : (uint32_t)(256 + extra++);
        char s[4];
        fx_utf8(cp, s);
        json_object_set_new(vocab, s, json_integer(next++));
    }
    static const char *const m[][2] = {{"G", "o"},           {"\xc4\xa0", "u"}, {"\xc4\xa0u", "p"},
                                       {"\xc4\xa0", "l"},    {"e", "f"},        {"\xc4\xa0l", "ef"},
                                       {"\xc4\xa0lef", "t"}, {"i", "n"},        {"\xc4\xa0", "T"},
                                       {"h", "e"},           {"\xc4\xa0", "a"}};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        char merged[32];
        snprintf(merged, sizeof merged, "%s%s", m[i][0], m[i][1]);
        if (!json_object_get(vocab, merged))
            json_object_set_new(vocab, merged, json_integer(next++));
        json_array_append_new(merges, json_sprintf("%s %s", m[i][0], m[i][1]));
    }
    json_t *model = json_pack("{s:s,s:n,s:n,s:n,s:n,s:b,s:b,s:o,s:o}", "type", "BPE", "dropout",
                              "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
                              "fuse_unk", 0, "byte_fallback", 0, "vocab", vocab, "merges", merges);
    json_t *post = json_pack(
        "{s:s,s:[{s:{s:s,s:i}},{s:{s:s,s:i}}],s:[{s:{s:s,s:i}},{s:{s:s,s:i}},{s:{s:s,s:i}},{s:{s:"
        "s,s:i}}],s:{s:{s:s,s:[i],s:[s]}}}",
        "type", "TemplateProcessing", "single", "SpecialToken", "id", "<s>", "type_id", 0,
        "Sequence", "id", "A", "type_id", 0, "pair", "SpecialToken", "id", "<s>", "type_id", 0,
        "Sequence", "id", "A", "type_id", 0, "SpecialToken", "id", "<s>", "type_id", 1, "Sequence",
        "id", "B", "type_id", 1, "special_tokens", "<s>", "id", "<s>", "ids", 0, "tokens", "<s>");
    json_t *bl = json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                           "trim_offsets", 1, "use_regex", 1);
    json_t *tok = json_pack("{s:s,s:n,s:n,s:o,s:n,s:o,s:o,s:o,s:o}", "version", "1.0", "truncation",
                            "padding", "added_tokens", added, "normalizer", "pre_tokenizer", bl,
                            "post_processor", post, "decoder", json_deep_copy(bl), "model", model);
    if (!tok)
        return -1;
    struct mvot_error err;
    int rc = mvot_json_write_file(path, tok, &err) == MVOT_OK ? 0 : -1;
    if (rc)
        fprintf(stderr, "fixture tokenizer: %s\n", err.msg);
    json_decref(tok);
    return rc;
}

/* Generates a small archive (episodes per task, S x S frames) into dir and trains a patch
 * codebook of K codes into dir/cb.safetensors; writes dir/tokenizer.json. 0 on success. */
static int fx_make(const char *dir, uint64_t episodes, uint32_t S, uint32_t K)
{
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.episodes = episodes;
    cfg.image_size = S;
    cfg.seed = 7;
    cfg.min_steps = 1;
    cfg.max_steps = 4;
    if (mvot_gen_run(&cfg, dir, NULL, NULL, NULL, &err) != MVOT_OK) {
        fprintf(stderr, "fixture gen: %s\n", err.msg);
        return -1;
    }
    char *arch = mvot_io_join(dir, "episodes.tar.zst");
    char *cbp = mvot_io_join(dir, "cb.safetensors");
    char *tp = mvot_io_join(dir, "tokenizer.json");
    struct mvot_kmeans_opts ko;
    mvot_kmeans_opts_default(&ko);
    ko.K = K;
    ko.max_iters = 3;
    struct mvot_codebook cb;
    memset(&cb, 0, sizeof cb);
    int rc = -1;
    if (mvot_codebook_train_archive(arch, &ko, NULL, NULL, &cb, &err) != MVOT_OK ||
        mvot_codebook_save(cbp, &cb, &err) != MVOT_OK)
        fprintf(stderr, "fixture codebook: %s\n", err.msg);
    else
        rc = fx_write_tokenizer(tp);
    mvot_codebook_free(&cb);
    free(arch);
    free(cbp);
    free(tp);
    return rc;
}

#endif
