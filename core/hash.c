/* XXH3-64 wrappers. */
#include "core/hash.h"

#include "core/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t mvot_hash64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

uint64_t mvot_hash64_seed(const void *data, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(data, len, seed);
}

enum mvot_status mvot_hasher_init(struct mvot_hasher *h)
{
    h->state = XXH3_createState();
    if (!h->state)
        return MVOT_ERR_NOMEM;
    XXH3_64bits_reset(h->state);
    return MVOT_OK;
}

void mvot_hasher_update(struct mvot_hasher *h, const void *data, size_t len)
{
    XXH3_64bits_update(h->state, data, len);
}

uint64_t mvot_hasher_digest(const struct mvot_hasher *h)
{
    return XXH3_64bits_digest(h->state);
}

void mvot_hasher_free(struct mvot_hasher *h)
{
    if (h && h->state) {
        XXH3_freeState(h->state);
        h->state = NULL;
    }
}

void mvot_hash_hex(uint64_t h, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[h & 15];
        h >>= 4;
    }
    out[16] = 0;
}

int mvot_hash_parse_hex(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (s[16] != 0)
        return -1;
    *out = v;
    return 0;
}

enum mvot_status mvot_hash_file(const char *path, uint64_t *out, struct mvot_error *err)
{
    FILE *fp = mvot_io_fopen_input(path, err);
    if (!fp)
        return MVOT_ERR_IO;
    struct mvot_hasher h;
    if (mvot_hasher_init(&h) != MVOT_OK) {
        fclose(fp);
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    static _Thread_local unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        mvot_hasher_update(&h, buf, n);
    int bad = ferror(fp);
    fclose(fp);
    *out = mvot_hasher_digest(&h);
    mvot_hasher_free(&h);
    if (bad)
        return mvot_error_set(err, MVOT_ERR_IO, path, "read error");
    return MVOT_OK;
}
