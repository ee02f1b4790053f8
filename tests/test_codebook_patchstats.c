/* Patch statistics files (codebook/patchstats.h): save/load round trips; training over files
 * that split a frame set into parts gives the same codebook as training over all the frames
 * (exact and subsampled paths); the part checks (missing, duplicated, foreign); the replace
 * rule; agreement between docs/patch-stats-format.md's header table and the bytes written;
 * and one hand-made corrupt file per failure class, plus every truncation. Frames are
 * synthetic (tests/test_codebook_synth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "codebook/patchstats.h"
#include "core/hash.h"
#include "core/io.h"
#include "tests/test.h"
#include "tests/test_codebook_synth.h"

#define S 64
#define NFRAMES 24

/* Writes frames [a, b) as part `index` of `count` (count 0: not a part) into dir/name. */
static char *write_part(const char *dir, const char *name, const struct mvot_image *f, size_t a,
                        size_t b, uint32_t index, uint32_t count, uint64_t plan)
{
    struct mvot_error err = {0};
    struct mvot_patchset ps;
    struct mvot_patchstats_info id;
    char *path = mvot_io_join(dir, name);
    memset(&id, 0, sizeof id);
    id.archive_xxh3 = 0xa000 + index;
    id.archive_bytes = 1000 + index;
    id.part_index = index;
    id.part_count = count;
    id.plan_xxh3 = count ? plan : 0;
    id.run_xxh3 = 0x5eed;
    ASSERT_OK(mvot_patchset_from_frames(f + a, b - a, 16, 0, NULL, &ps, &err), &err);
    ASSERT_OK(mvot_patchstats_save(path, &ps, &id, &err), &err);
    ASSERT_EQ_U64(id.distinct, ps.n);
    ASSERT_EQ_U64(id.frames, b - a);
    mvot_patchset_free(&ps);
    return path;
}

static void test_roundtrip(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(NFRAMES, S, 4, 7);
    struct mvot_patchset all, back, mem;
    struct mvot_patchstats_info info;
    char *p = write_part(dir, "all.mvps", f, 0, NFRAMES, 0, 0, 0);
    ASSERT_OK(mvot_patchset_from_frames(f, NFRAMES, 16, 0, NULL, &all, &err), &err);
    ASSERT_OK(mvot_patchset_sort(&all, &err), &err);
    ASSERT_OK(mvot_patchstats_load(p, 0, &back, &info, &err), &err);
    ASSERT_EQ_U64(back.n, all.n);
    ASSERT_EQ_U64(back.total, all.total);
    ASSERT_EQ_U64(back.frames, NFRAMES);
    ASSERT_EQ_INT(back.image_size, S);
    ASSERT_EQ_U64(info.archive_xxh3, 0xa000);
    ASSERT_EQ_U64(info.run_xxh3, 0x5eed);
    ASSERT_TRUE(memcmp(back.bytes, all.bytes, all.n * all.D) == 0);
    ASSERT_TRUE(memcmp(back.count, all.count, all.n * sizeof *all.count) == 0);
    /* The memory reader gives the same set. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    ASSERT_OK(mvot_io_read_file(p, 1 << 24, &bytes, &len, &err), &err);
    ASSERT_EQ_U64(len, MVOT_PATCHSTATS_HEADER_BYTES + info.payload_bytes);
    ASSERT_TRUE(info.payload_bytes < all.n * (all.D + 8) / 4); /* flat cells compress */
    ASSERT_OK(mvot_patchstats_load_mem(bytes, len, "mem", 0, &mem, NULL, &err), &err);
    ASSERT_EQ_U64(mem.n, all.n);
    /* A cap below the file's distinct count refuses it before reading. */
    mvot_patchset_free(&mem);
    ASSERT_EQ_INT(mvot_patchstats_load(p, all.n - 1, &mem, NULL, &err), MVOT_ERR_NOMEM);
    ASSERT_CONTAINS(err.msg, "all.mvps");
    /* Saving the loaded set gives the same bytes. */
    char *p2 = mvot_io_join(dir, "again.mvps");
    ASSERT_OK(mvot_patchstats_save(p2, &back, &info, &err), &err);
    uint8_t *bytes2 = NULL;
    size_t len2 = 0;
    ASSERT_OK(mvot_io_read_file(p2, 1 << 24, &bytes2, &len2, &err), &err);
    ASSERT_TRUE(len2 == len && memcmp(bytes, bytes2, len) == 0);
    free(bytes);
    free(bytes2);
    mvot_patchset_free(&all);
    mvot_patchset_free(&back);
    synth_frames_free(f, NFRAMES);
    free(p);
    free(p2);
    free(dir);
}

/* Codebook files are compared through their bytes on disk. */
static void save_bytes(const char *dir, const char *name, struct mvot_codebook *cb, uint8_t **out,
                       size_t *len)
{
    struct mvot_error err = {0};
    char *p = mvot_io_join(dir, name);
    ASSERT_OK(mvot_codebook_save(p, cb, &err), &err);
    ASSERT_OK(mvot_io_read_file(p, 1 << 26, out, len, &err), &err);
    free(p);
}

/* Training over 3 part files (given out of order) equals training over all frames. */
static void check_parts_equal_whole(uint32_t K, uint64_t max_patches)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(NFRAMES, S, 4, 11);
    struct mvot_kmeans_opts o;
    mvot_kmeans_opts_default(&o);
    o.K = K;
    o.max_patches = max_patches;
    o.max_iters = 4;
    o.seed = 3;
    char *p0 = write_part(dir, "p0.mvps", f, 0, 5, 0, 3, 77);
    char *p1 = write_part(dir, "p1.mvps", f, 5, 17, 1, 3, 77);
    char *p2 = write_part(dir, "p2.mvps", f, 17, NFRAMES, 2, 3, 77);
    const char *files[3] = {p2, p0, p1};
    struct mvot_codebook whole, parts;
    ASSERT_OK(mvot_codebook_train_frames(f, NFRAMES, &o, NULL, NULL, &whole, &err), &err);
    ASSERT_OK(mvot_codebook_train_from_stats(files, 3, &o, NULL, NULL, &parts, &err), &err);
    uint8_t *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    save_bytes(dir, "whole.safetensors", &whole, &a, &la);
    save_bytes(dir, "parts.safetensors", &parts, &b, &lb);
    ASSERT_TRUE(a && b && la == lb && memcmp(a, b, la) == 0);
    const char *alg = json_string_value(json_object_get(whole.stats, "algorithm"));
    ASSERT_EQ_STR(alg, K >= 1000 ? "exact" : "kmeans");
    if (K < 1000) /* the subsample path ran: fewer points than distinct patches */
        ASSERT_TRUE(json_integer_value(json_object_get(whole.stats, "points")) <
                    json_integer_value(json_object_get(whole.stats, "distinct")));
    free(a);
    free(b);
    mvot_codebook_free(&whole);
    mvot_codebook_free(&parts);
    synth_frames_free(f, NFRAMES);
    free(p0);
    free(p1);
    free(p2);
    free(dir);
}

static void test_parts_equal_whole_exact(void)
{
    check_parts_equal_whole(4096, 65536);
}

static void test_parts_equal_whole_subsampled(void)
{
    check_parts_equal_whole(8, 20);
}

static void test_part_checks(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(6, S, 4, 5);
    char *p0 = write_part(dir, "p0.mvps", f, 0, 2, 0, 3, 1);
    char *p1 = write_part(dir, "p1.mvps", f, 2, 4, 1, 3, 1);
    char *p2 = write_part(dir, "p2.mvps", f, 4, 6, 2, 3, 1);
    char *q2 = write_part(dir, "other-plan.mvps", f, 4, 6, 2, 3, 2);
    char *w = write_part(dir, "whole.mvps", f, 0, 6, 0, 0, 0);
    char *e = write_part(dir, "empty.mvps", f, 0, 0, 0, 0, 0);
    struct mvot_patchset ps;
    {
        const char *files[] = {p0, p2};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 2, 0, NULL, &ps, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "part 1/3 is missing");
    }
    {
        const char *files[] = {p0, p1, p1, p2};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 4, 0, NULL, &ps, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "part 1/3 is given twice");
        ASSERT_CONTAINS(err.msg, "p1.mvps");
    }
    {
        const char *files[] = {p0, p1, q2};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 3, 0, NULL, &ps, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "other-plan.mvps");
        ASSERT_CONTAINS(err.msg, "plan hash");
    }
    {
        const char *files[] = {p0, p1, p2, w};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 4, 0, NULL, &ps, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "whole.mvps: is not a gen part");
    }
    {
        const char *files[] = {w, w};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 2, 0, NULL, &ps, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "given twice");
    }
    {
        /* The summed set obeys the cap like a one-process read: the parts fit one by one. */
        struct mvot_patchset whole;
        ASSERT_OK(mvot_patchstats_load(w, 0, &whole, NULL, &err), &err);
        const char *files[] = {p0, p1, p2};
        ASSERT_EQ_INT(mvot_patchstats_merge_files(files, 3, whole.n - 1, NULL, &ps, &err),
                      MVOT_ERR_NOMEM);
        ASSERT_OK(mvot_patchstats_merge_files(files, 3, whole.n, NULL, &ps, &err), &err);
        ASSERT_EQ_U64(ps.n, whole.n);
        ASSERT_EQ_U64(ps.total, whole.total);
        mvot_patchset_free(&ps);
        mvot_patchset_free(&whole);
    }
    {
        /* A file without frames is fine to sum, but training on nothing is refused. */
        struct mvot_kmeans_opts o;
        struct mvot_codebook cb;
        mvot_kmeans_opts_default(&o);
        const char *files[] = {e};
        ASSERT_EQ_INT(mvot_codebook_train_from_stats(files, 1, &o, NULL, NULL, &cb, &err),
                      MVOT_ERR_NOTFOUND);
        ASSERT_CONTAINS(err.msg, "no frames");
    }
    synth_frames_free(f, 6);
    free(p0);
    free(p1);
    free(p2);
    free(q2);
    free(w);
    free(e);
    free(dir);
}

/* A path that is not a patch statistics file is never replaced; our own file is. */
static void test_replace_rule(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    char *p = mvot_io_join(dir, "x.mvps");
    struct mvot_patchset ps;
    struct mvot_patchstats_info id;
    memset(&id, 0, sizeof id);
    ASSERT_OK(mvot_patchset_init(&ps, 16, 0, &err), &err);
    ASSERT_OK(mvot_io_write_file(p, "not ours", 8, &err), &err);
    ASSERT_EQ_INT(mvot_patchstats_save(p, &ps, &id, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "x.mvps: exists and is not a patch statistics file");
    uint8_t *b = NULL;
    size_t n = 0;
    ASSERT_OK(mvot_io_read_file(p, 100, &b, &n, &err), &err);
    ASSERT_TRUE(n == 8 && memcmp(b, "not ours", 8) == 0);
    free(b);
    ASSERT_EQ_INT(mvot_patchstats_save(dir, &ps, &id, &err), MVOT_ERR_INVALID); /* a folder */
    unlink(p);
    ASSERT_OK(mvot_patchstats_save(p, &ps, &id, &err), &err);
    ASSERT_OK(mvot_patchstats_save(p, &ps, &id, &err), &err); /* our own: replaced */
    mvot_patchset_free(&ps);
    free(p);
    free(dir);
}

/* ---- the spec ------------------------------------------------------------------------- */

struct doc_field {
    unsigned off, size;
    char name[32];
};

/* The rows of the "## Header" table: | offset | size | `name` | meaning |. */
static size_t doc_fields(const char *doc, struct doc_field *f, size_t cap)
{
    const char *sec = strstr(doc, "\n## Header");
    size_t n = 0;
    if (!sec)
        return 0;
    const char *end = strstr(sec + 1, "\n## ");
    for (const char *p = strstr(sec, "\n| "); p && (!end || p < end) && n < cap;
         p = strstr(p + 1, "\n| ")) {
        char *q;
        unsigned long off = strtoul(p + 3, &q, 10);
        if (q == p + 3 || strncmp(q, " | ", 3) != 0)
            continue; /* the title and separator rows */
        unsigned long size = strtoul(q + 3, &q, 10);
        const char *a = strstr(q, "`"), *b = a ? strchr(a + 1, '`') : NULL;
        if (!b || b - a - 1 >= 32)
            break;
        f[n].off = (unsigned)off;
        f[n].size = (unsigned)size;
        memcpy(f[n].name, a + 1, (size_t)(b - a - 1));
        f[n].name[b - a - 1] = 0;
        n++;
    }
    return n;
}

static uint64_t le_at(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned k = size; k-- > 0;)
        v = (v << 8) | p[k];
    return v;
}

/* The decompressed entries of a file (the payload is one zstd frame with its size). */
static uint8_t *unpack(const uint8_t *file, size_t len, size_t *elen)
{
    unsigned long long n = ZSTD_getFrameContentSize(file + 128, len - 128);
    uint8_t *e = NULL;
    *elen = 0;
    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > (1u << 26)) {
        T_FAIL("payload frame has no usable content size");
        return NULL;
    }
    e = malloc(n ? n : 1);
    if (ZSTD_isError(ZSTD_decompress(e, n, file + 128, len - 128))) {
        T_FAIL("payload does not decompress");
        free(e);
        return NULL;
    }
    *elen = n;
    return e;
}

static void test_spec_agrees(void)
{
    struct mvot_error err = {0};
    char *doc = t_read_source("docs/patch-stats-format.md");
    if (!doc) {
        T_FAIL("cannot read docs/patch-stats-format.md");
        return;
    }
    const char *d = doc;
    char v[64];
    snprintf(v, sizeof v, "(mvot-patch-stats, version %d)", MVOT_PATCHSTATS_VERSION);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "a %d-byte header", MVOT_PATCHSTATS_HEADER_BYTES);
    ASSERT_CONTAINS(d, v);
    ASSERT_CONTAINS(d, "`4D 56 50 53 0D 0A 1A 0A`");
    ASSERT_TRUE(memcmp(MVOT_PATCHSTATS_MAGIC, "\x4d\x56\x50\x53\x0d\x0a\x1a\x0a", 8) == 0);
    ASSERT_CONTAINS(d, "- **1** (initial");

    /* A file with a distinct value in every field. */
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(3, S, 4, 2);
    char *p = write_part(dir, "spec.mvps", f, 0, 3, 1, 4, 0x1122334455667788ULL);
    struct mvot_patchstats_info in;
    ASSERT_OK(mvot_patchstats_read_info(p, &in, &err), &err);
    uint8_t *bytes = NULL;
    size_t blen = 0;
    ASSERT_OK(mvot_io_read_file(p, 1 << 24, &bytes, &blen, &err), &err);
    struct doc_field fl[32];
    size_t nf = doc_fields(d, fl, 32);
    ASSERT_EQ_INT(nf, 18);
    size_t elen = 0;
    uint8_t *ent = unpack(bytes, blen, &elen);
    const struct {
        const char *name;
        uint64_t want; /* checked when size <= 8 */
    } expect[] = {
        {"magic", le_at((const uint8_t *)MVOT_PATCHSTATS_MAGIC, 8)},
        {"version", MVOT_PATCHSTATS_VERSION},
        {"header_bytes", MVOT_PATCHSTATS_HEADER_BYTES},
        {"patch", 16},
        {"image_size", S},
        {"frames", 3},
        {"patches", 3 * (S / 16) * (S / 16)},
        {"distinct", in.distinct},
        {"archive_xxh3", 0xa001},
        {"archive_bytes", 1001},
        {"part_index", 1},
        {"part_count", 4},
        {"plan_xxh3", 0x1122334455667788ULL},
        {"run_xxh3", 0x5eed},
        {"payload_xxh3", ent ? mvot_hash64(ent, elen) : 0},
        {"payload_bytes", blen - MVOT_PATCHSTATS_HEADER_BYTES},
        {"reserved", 0},
        {"header_xxh3", mvot_hash64(bytes, 120)},
    };
    unsigned at = 0;
    for (size_t i = 0; i < nf && i < sizeof expect / sizeof expect[0]; i++) {
        ASSERT_EQ_STR(fl[i].name, expect[i].name);
        ASSERT_EQ_INT(fl[i].off, at); /* contiguous, in order */
        at = fl[i].off + fl[i].size;
        if (fl[i].size <= 8)
            ASSERT_EQ_U64(le_at(bytes + fl[i].off, fl[i].size), expect[i].want);
        else
            for (unsigned k = 0; k < fl[i].size; k++)
                ASSERT_EQ_INT(bytes[fl[i].off + k], 0);
    }
    ASSERT_EQ_INT(at, MVOT_PATCHSTATS_HEADER_BYTES);
    /* Entries: D bytes, then the u64 count; the first is the canonical first patch. */
    struct mvot_patchset ps;
    ASSERT_OK(mvot_patchset_from_frames(f, 3, 16, 0, NULL, &ps, &err), &err);
    ASSERT_OK(mvot_patchset_sort(&ps, &err), &err);
    ASSERT_EQ_U64(elen, ps.n * (ps.D + 8));
    ASSERT_TRUE(ent && memcmp(ent, ps.bytes, ps.D) == 0);
    ASSERT_EQ_U64(ent ? le_at(ent + ps.D, 8) : 0, ps.count[0]);
    free(ent);
    mvot_patchset_free(&ps);
    synth_frames_free(f, 3);
    free(bytes);
    free(doc);
    free(p);
    free(dir);
}

/* ---- corrupt files ---------------------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* Re-signs the header after an edit of its fields. */
static void resign(uint8_t *b)
{
    put64(b + 120, mvot_hash64(b, 120));
}

/* A file from a header and entries: compressed payload, its size, its checksum (unless
 * keep_sum: then the header's old one stays), header re-signed. */
static uint8_t *pack(const uint8_t *hdr, const uint8_t *ent, size_t elen, int keep_sum, size_t *len)
{
    size_t cap = ZSTD_compressBound(elen);
    uint8_t *b = malloc(128 + cap);
    size_t z = ZSTD_compress(b + 128, cap, ent, elen, 3);
    ASSERT_TRUE(!ZSTD_isError(z));
    memcpy(b, hdr, 128);
    put64(b + 96, z);
    if (!keep_sum)
        put64(b + 88, mvot_hash64(ent, elen));
    resign(b);
    *len = 128 + z;
    return b;
}

static void test_bad_files(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(4, S, 4, 9);
    char *good = write_part(dir, "good.mvps", f, 0, 4, 0, 0, 0);
    uint8_t *orig = NULL, *ent = NULL;
    size_t len = 0, elen = 0;
    ASSERT_OK(mvot_io_read_file(good, 1 << 24, &orig, &len, &err), &err);
    ent = orig ? unpack(orig, len, &elen) : NULL;
    if (!ent)
        return;
    const size_t E = 768 + 8;
    ASSERT_TRUE(elen >= 3 * E);
    enum { N_CASES = 16 };
    static const struct {
        const char *name;
        enum mvot_status want;
        const char *msg;
    } cases[N_CASES] = {
        {"magic", MVOT_ERR_CORRUPT, "offset 0: not a patch statistics file"},
        {"short_header", MVOT_ERR_CORRUPT, "offset 100: truncated"},
        {"version", MVOT_ERR_UNSUPPORTED, "offset 8: format version 2"},
        {"header_sum", MVOT_ERR_CORRUPT, "offset 120: header checksum"},
        {"reserved", MVOT_ERR_CORRUPT, "offset 110: reserved"},
        {"patch_total", MVOT_ERR_CORRUPT, "offset 32: "},
        {"part_range", MVOT_ERR_CORRUPT, "offset 64: part 5 of 5"},
        {"truncated", MVOT_ERR_CORRUPT, "truncated"},
        {"trailing", MVOT_ERR_CORRUPT, "3 bytes after the payload"},
        {"order", MVOT_ERR_CORRUPT, "entry 1 is out of canonical order"},
        {"zero_count", MVOT_ERR_CORRUPT, "entry 0: count is 0"},
        {"payload_sum", MVOT_ERR_CORRUPT, "payload checksum"},
        {"big_count", MVOT_ERR_CORRUPT, "exceeds the header's total"},
        {"zstd_damage", MVOT_ERR_CORRUPT, "payload: "},
        {"short_frame", MVOT_ERR_CORRUPT, "the payload ends before its last entry"},
        {"long_frame", MVOT_ERR_CORRUPT, "the payload holds more than its entries"},
    };
    for (int c = 0; c < N_CASES; c++) {
        uint8_t *b = malloc(len + 16), *e = malloc(elen + E), *packed = NULL;
        size_t n = len, en = elen;
        memcpy(b, orig, len);
        memcpy(e, ent, elen);
        switch (c) {
        case 0: b[3] ^= 1; break;
        case 1: n = 100; break;
        case 2:
            b[8] = 2;
            resign(b);
            break;
        case 3: b[50] ^= 1; break;
        case 4:
            b[110] = 1;
            resign(b);
            break;
        case 5:
            put64(b + 32, le_at(b + 32, 8) + 1);
            resign(b);
            break;
        case 6:
            b[64] = 5;
            b[68] = 5;
            resign(b);
            break;
        case 7: n = len - 10; break;
        case 8:
            memset(b + len, 0, 16);
            n = len + 3;
            break;
        case 9: /* swap entries 0 and 1 */
            memcpy(e, ent + E, E);
            memcpy(e + E, ent, E);
            packed = pack(orig, e, en, 0, &n);
            break;
        case 10:
            put64(e + 768, 0);
            packed = pack(orig, e, en, 0, &n);
            break;
        case 11: /* swap two different counts: order and total still hold */
        {
            size_t j = 1;
            while ((j + 1) * E <= elen && le_at(e + j * E + 768, 8) == le_at(e + 768, 8))
                j++;
            ASSERT_TRUE((j + 1) * E <= elen);
            put64(e + 768, le_at(ent + j * E + 768, 8));
            put64(e + j * E + 768, le_at(ent + 768, 8));
            packed = pack(orig, e, en, 1, &n);
            break;
        }
        case 12:
            put64(e + 768, le_at(orig + 32, 8) + 1);
            packed = pack(orig, e, en, 0, &n);
            break;
        case 13: b[128 + (len - 128) / 2] ^= 0x40; break;
        case 14: packed = pack(orig, e, en - E, 0, &n); break;
        case 15:
            memcpy(e + elen, ent, E);
            packed = pack(orig, e, en + E, 0, &n);
            break;
        }
        char *path = mvot_strdupf("%s/%s.mvps", dir, cases[c].name);
        FILE *fp = fopen(path, "wb");
        fwrite(packed ? packed : b, 1, n, fp);
        fclose(fp);
        struct mvot_patchset ps;
        mvot_error_clear(&err);
        enum mvot_status st = mvot_patchstats_load(path, 0, &ps, NULL, &err);
        if (st != cases[c].want)
            T_FAIL("case %s: status %d, want %d (%s)", cases[c].name, st, cases[c].want, err.msg);
        ASSERT_CONTAINS(err.msg, cases[c].msg);
        ASSERT_CONTAINS(err.msg, cases[c].name); /* the file is named */
        ASSERT_CONTAINS(err.msg, ": offset ");   /* and the place */
        ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
        if (st == MVOT_OK)
            mvot_patchset_free(&ps);
        free(path);
        free(b);
        free(e);
        free(packed);
    }
    ASSERT_EQ_INT(mvot_patchstats_read_info("/nonexistent/x.mvps", NULL, &err), MVOT_ERR_IO);
    ASSERT_CONTAINS(err.msg, "/nonexistent/x.mvps");
    synth_frames_free(f, 4);
    free(orig);
    free(ent);
    free(good);
    free(dir);
}

/* Every prefix of a valid file fails cleanly. */
static void test_truncations(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    struct mvot_image *f = synth_frames(2, S, 4, 4);
    char *p = write_part(dir, "t.mvps", f, 0, 2, 0, 0, 0);
    uint8_t *b = NULL;
    size_t len = 0;
    ASSERT_OK(mvot_io_read_file(p, 1 << 24, &b, &len, &err), &err);
    for (size_t n = 0; b && n < len; n++) {
        struct mvot_patchset ps;
        if (mvot_patchstats_load_mem(b, n, "prefix", 0, &ps, NULL, &err) == MVOT_OK) {
            T_FAIL("prefix of %zu bytes loaded", n);
            mvot_patchset_free(&ps);
        }
    }
    struct mvot_patchset whole;
    ASSERT_OK(mvot_patchstats_load_mem(b, len, "whole", 0, &whole, NULL, &err), &err);
    mvot_patchset_free(&whole);
    synth_frames_free(f, 2);
    free(b);
    free(p);
    free(dir);
}

TEST_MAIN(test_roundtrip, test_parts_equal_whole_exact, test_parts_equal_whole_subsampled,
          test_part_checks, test_replace_rule, test_spec_agrees, test_bad_files, test_truncations)
