/* A C program using only the installed libmvot (<mvot/mvot.h>): generates episodes, packs
 * them with the tokenizer and codebook of an existing build, verifies the shard set, reads
 * every sample back and round-trips text through the tokenizer. Built and run by run.sh
 * against a temporary install prefix, through pkg-config and through find_package(mvot).
 * usage: consumer BUILD_DIR WORK_DIR   (BUILD_DIR: an `mvot build --out` folder) */
#include <mvot/mvot.h>
#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                                                     \
    do {                                                                                \
        enum mvot_status st_ = (expr);                                                  \
        if (st_ != MVOT_OK) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #expr, err.msg, \
                    mvot_status_str(st_));                                              \
            return 1;                                                                   \
        }                                                                               \
    } while (0)

int main(int argc, char **argv)
{
    struct mvot_error err = {0};
    char tok[1024], cb[1024], gen[1024], shards[1024];
    if (argc != 3) {
        fprintf(stderr, "usage: consumer BUILD_DIR WORK_DIR\n");
        return 2;
    }
    printf("libmvot %s\n", mvot_version());
    snprintf(tok, sizeof tok, "%s/tokenizer.json", argv[1]);
    snprintf(cb, sizeof cb, "%s/codebook.safetensors", argv[1]);
    snprintf(gen, sizeof gen, "%s/gen", argv[2]);
    snprintf(shards, sizeof shards, "%s/shards", argv[2]);

    char *summary = NULL;
    CHECK(mvot_gen("{\"episodes\": 1, \"image_size\": 128, \"min_steps\": 2, \"max_steps\": 4}",
                   gen, 2, &summary, &err));
    if (!strstr(summary, "\"episodes\"")) {
        fprintf(stderr, "gen summary has no episodes: %s\n", summary);
        return 1;
    }
    mvot_free(summary);
    if (mvot_gen("{\"no_such_key\": 1}", gen, 1, NULL, &err) != MVOT_ERR_INVALID) {
        fprintf(stderr, "an unknown gen key was accepted\n");
        return 1;
    }
    if (mvot_pack(gen, tok, cb, shards, "{\"image_seq_length\": 100}", 1, NULL, &err) !=
            MVOT_ERR_INVALID ||
        mvot_pack(gen, tok, cb, shards, "{\"nope\": 1}", 1, NULL, &err) != MVOT_ERR_INVALID ||
        !strstr(err.msg, "nope")) {
        fprintf(stderr, "bad pack options were accepted (%s)\n", err.msg);
        return 1;
    }
    CHECK(mvot_pack(gen, tok, cb, shards, "{\"image_seq_length\": 64}", 2, NULL, &err));

    int ok = 0;
    char *report = NULL;
    CHECK(mvot_verify(shards, 2, &ok, &report, &err));
    if (!ok) {
        fprintf(stderr, "verify: %s\n", report);
        return 1;
    }
    mvot_free(report);

    struct mvot_shards *set = NULL;
    CHECK(mvot_shards_open(shards, &set, &err));
    uint64_t n = mvot_shards_count(set);
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        char *key = NULL;
        int32_t *ids = NULL, *labels = NULL;
        size_t nt = 0;
        CHECK(mvot_shards_read(set, i, &key, &ids, &labels, &nt, &err));
        for (size_t j = 0; j < nt; j++)
            if (labels[j] != -100 && labels[j] != ids[j]) {
                fprintf(stderr, "%s: label %zu is neither -100 nor the token\n", key, j);
                return 1;
            }
        total += nt;
        mvot_free(key);
        mvot_free(ids);
        mvot_free(labels);
    }
    if (n == 0 || !strstr(mvot_shards_manifest(set), "\"totals\"") ||
        mvot_shards_read(set, n, NULL, NULL, NULL, NULL, &err) != MVOT_ERR_NOTFOUND) {
        fprintf(stderr, "shard set: %llu samples, or bad manifest / out-of-range read\n",
                (unsigned long long)n);
        return 1;
    }
    mvot_shards_close(set);

    struct mvot_tokenizer *t = NULL;
    CHECK(mvot_tokenizer_load(tok, &t, &err));
    const char *text = "Go up. Go left. The answer is A.";
    int32_t *ids = NULL;
    size_t nid = 0;
    char *back = NULL;
    CHECK(mvot_tokenizer_encode(t, text, strlen(text), 0, &ids, &nid, &err));
    CHECK(mvot_tokenizer_decode(t, ids, nid, 0, &back, &err));
    if (nid == 0 || strcmp(back, text) != 0) {
        fprintf(stderr, "tokenizer round trip: \"%s\" -> %zu ids -> \"%s\"\n", text, nid, back);
        return 1;
    }
    printf("C consumer ok: %llu samples, %zu tokens, vocab %u\n", (unsigned long long)n, total,
           mvot_tokenizer_vocab_size(t));
    mvot_free(ids);
    mvot_free(back);
    mvot_tokenizer_free(t);
    return 0;
}
