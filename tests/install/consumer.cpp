// A C++ program using the installed libmvot: the header must compile as C++ (extern "C") and
// link. Reads a shard set's first sample and round-trips text through the tokenizer, with
// RAII wrappers around the opaque handles. usage: consumer_cpp SHARD_DIR
#include <mvot/mvot.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Error : std::runtime_error {
    explicit Error(const mvot_error &e) : std::runtime_error(e.msg) {}
};

void check(mvot_status st, const mvot_error &e)
{
    if (st != MVOT_OK)
        throw Error(e);
}

struct ShardsClose {
    void operator()(mvot_shards *s) const { mvot_shards_close(s); }
};
struct TokFree {
    void operator()(mvot_tokenizer *t) const { mvot_tokenizer_free(t); }
};
struct Free {
    void operator()(void *p) const { mvot_free(p); }
};

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer_cpp SHARD_DIR\n");
        return 2;
    }
    try {
        mvot_error err{};
        mvot_shards *raw = nullptr;
        check(mvot_shards_open(argv[1], &raw, &err), err);
        std::unique_ptr<mvot_shards, ShardsClose> set(raw);
        char *key = nullptr;
        int32_t *ids = nullptr;
        size_t n = 0;
        check(mvot_shards_read(set.get(), 0, &key, &ids, nullptr, &n, &err), err);
        std::unique_ptr<char, Free> key_owner(key);
        std::unique_ptr<int32_t, Free> ids_owner(ids);
        std::vector<int32_t> tokens(ids, ids + n);

        mvot_tokenizer *traw = nullptr;
        check(mvot_tokenizer_load((std::string(argv[1]) + "/tokenizer.json").c_str(), &traw, &err),
              err);
        std::unique_ptr<mvot_tokenizer, TokFree> tok(traw);
        std::string text = "Initial maze: <image> Go down.";
        int32_t *enc = nullptr;
        size_t ne = 0;
        check(mvot_tokenizer_encode(tok.get(), text.data(), text.size(), 0, &enc, &ne, &err), err);
        std::unique_ptr<int32_t, Free> enc_owner(enc);
        char *dec = nullptr;
        check(mvot_tokenizer_decode(tok.get(), enc, ne, 0, &dec, &err), err);
        std::unique_ptr<char, Free> dec_owner(dec);
        if (text != dec || tokens.empty())
            throw std::runtime_error("round trip or empty sample");
        std::printf("C++ consumer ok: %s has %zu tokens (libmvot %s)\n", key, tokens.size(),
                    mvot_version());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "consumer_cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}
