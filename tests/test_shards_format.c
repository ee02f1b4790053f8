/* Byte-level pieces of the shard format: ustar members, the seek table and the index frame
 * round-trip and reject hand-made corrupt inputs (one per failure class); and
 * docs/shard-format.md states the same magic values, sizes and member order as the code. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "core/io.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/reader.h"
#include "shards/writer.h"
#include "tests/test.h"

static void t_tar(void)
{
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    ASSERT_EQ_INT(mvot_tar_append(&b, "k-1.json", "{}", 2), MVOT_OK);
    ASSERT_EQ_INT(b.len, 1024);
    struct mvot_tar_member m;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_tar_parse_header(b.data, "t", &m, &err), &err);
    ASSERT_EQ_STR(m.name, "k-1.json");
    ASSERT_EQ_INT(m.size, 2);
    ASSERT_EQ_INT(memcmp(b.data + 100, "0000644", 7), 0);
    ASSERT_EQ_INT(memcmp(b.data + 136, "00000000000", 11), 0);
    /* corrupt classes: checksum, magic, type, size field */
    uint8_t h[512];
    memcpy(h, b.data, 512);
    h[0] ^= 1;
    ASSERT_EQ_INT(mvot_tar_parse_header(h, "t", &m, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "checksum");
    memcpy(h, b.data, 512);
    h[257] = 'x';
    ASSERT_EQ_INT(mvot_tar_parse_header(h, "t", &m, &err), MVOT_ERR_CORRUPT);
    memcpy(h, b.data, 512);
    h[124] = '9';
    ASSERT_EQ_INT(mvot_tar_parse_header(h, "t", &m, &err), MVOT_ERR_CORRUPT);
    char longname[120];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ASSERT_EQ_INT(mvot_tar_append(&b, longname, "", 0), MVOT_ERR_INVALID);
    mvot_buf_free(&b);
}

/* Encodes an index of three entries and parses it against two data frames. */
static enum mvot_status parse_three(const struct mvot_index_entry *a,
                                    const struct mvot_index_entry *b,
                                    const struct mvot_index_entry *c,
                                    const struct mvot_seek_entry *frames)
{
    struct mvot_index ix = {0}, got = {0};
    struct mvot_buf buf;
    struct mvot_error err = {0};
    uint32_t ver = 0;
    mvot_buf_init(&buf, 0);
    mvot_index_push(&ix, a);
    mvot_index_push(&ix, b);
    mvot_index_push(&ix, c);
    enum mvot_status st = mvot_index_encode(&ix, &buf);
    if (st == MVOT_OK)
        st = mvot_index_parse(buf.data, buf.len, frames, 2, "s", &got, &ver, &err);
    mvot_index_free(&ix);
    mvot_index_free(&got);
    mvot_buf_free(&buf);
    return st;
}

static void t_seek_and_index(void)
{
    char *dir = t_tmpdir(), *path = mvot_io_join(dir, "s.bin");
    struct mvot_buf out;
    mvot_buf_init(&out, 0);
    struct mvot_seek_entries e = {0};
    struct mvot_error err = {0};
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    /* a group repeating a 1 MiB incompressible block 3 MiB later costs about one block: the
     * window holds the whole group (frames compressed once) */
    static uint8_t big[MVOT_FRAME_MAX_RAW];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < (1u << 20); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        big[i] = (uint8_t)x;
    }
    memcpy(big + (3u << 20), big, 1u << 20);
    ASSERT_OK(mvot_seekzstd_compress(cc, 3, big, sizeof big, &out, &e, &err), &err);
    ASSERT_EQ_INT(e.n, 1);
    ASSERT_TRUE(e.v[0].csize < (1u << 20) + (1u << 20) / 8);
    ASSERT_OK(mvot_seekzstd_compress(cc, 3, big, 100, &out, &e, &err), &err);
    ASSERT_OK(mvot_seekzstd_compress(cc, 3, big, 0, &out, &e, &err), &err);
    ASSERT_EQ_INT(e.n, 3); /* an empty input still gets one frame (the tar trailer's place) */
    /* frames decode with plain zstd and carry checksums */
    ASSERT_EQ_U64(ZSTD_getFrameContentSize(out.data, e.v[0].csize), MVOT_FRAME_MAX_RAW);
    struct mvot_index ix = {0};
    struct mvot_index_entry ea = {0, 1, 0, 1000, 0, 2, 1, (char *)"a-0"};
    struct mvot_index_entry eb = {0, 1, 1000, MVOT_FRAME_MAX_RAW - 1000, 0, 2, 1, (char *)"a-1"};
    struct mvot_index_entry ec = {1, 1, 0, 100, 1, 0, 1, (char *)"b-0"};
    mvot_index_push(&ix, &ea);
    mvot_index_push(&ix, &eb);
    mvot_index_push(&ix, &ec);
    size_t index_at = out.len;
    ASSERT_EQ_INT(mvot_index_encode(&ix, &out), MVOT_OK);
    size_t index_len = out.len - index_at;
    ASSERT_EQ_INT(mvot_seek_table_encode(e.v, e.n, &out), MVOT_OK);
    ASSERT_EQ_U64(mvot_rd32(out.data + out.len - 4), MVOT_SEEK_FOOTER_MAGIC);
    ASSERT_OK(mvot_io_write_file(path, out.data, out.len, &err), &err);
    int fd = open(path, O_RDONLY);
    struct mvot_seek_entries got = {0};
    uint64_t tsz = 0;
    uint32_t ver = 0;
    ASSERT_OK(mvot_seek_table_read(fd, out.len, "s", &got, &tsz, &err), &err);
    ASSERT_EQ_INT(got.n, 3);
    ASSERT_EQ_INT(tsz, 8 + 3 * 12 + 9);
    ASSERT_EQ_U64(got.v[1].checksum, e.v[1].checksum);
    struct mvot_index ix2 = {0};
    ASSERT_OK(mvot_index_parse(out.data + index_at, index_len, e.v, 2, "s", &ix2, &ver, &err),
              &err);
    ASSERT_EQ_INT(ver, MVOT_INDEX_VERSION);
    ASSERT_EQ_INT(ix2.n, 3);
    ASSERT_EQ_STR(ix2.v[1].key, "a-1");
    ASSERT_EQ_INT(ix2.v[1].offset, 1000);
    ASSERT_EQ_INT(ix2.v[2].split, 1);
    ASSERT_EQ_INT(ix2.v[0].task, 2);
    ASSERT_EQ_INT(ix2.v[0].episode_len, 1);
    mvot_index_free(&ix2);
    /* a group not covered to its end, and a bad split, are corrupt */
    struct mvot_buf bb;
    mvot_buf_init(&bb, 0);
    eb.length -= 1;
    ASSERT_EQ_INT(parse_three(&ea, &eb, &ec, e.v), MVOT_ERR_CORRUPT);
    eb.length += 1;
    ec.split = 3;
    ASSERT_EQ_INT(parse_three(&ea, &eb, &ec, e.v), MVOT_ERR_CORRUPT);
    ec.split = 1;
    ASSERT_EQ_INT(parse_three(&ea, &eb, &ec, e.v), MVOT_OK);
    /* a version 1 index (one or more whole frames per sample) still parses */
    bb.len = 0;
    const uint8_t v1[] = {'M', 'V', 'I', 'X', 1, 0, 0, 0, 2, 0, 0,   0,
                          0,   0,   0,   0,   1, 0, 0, 0, 1, 0, 'x',  /* frame 0 */
                          1,   0,   0,   0,   1, 0, 0, 0, 1, 0, 'y'}; /* frame 1 */
    uint8_t hdr[8], sum[4];
    mvot_wr32(hdr, MVOT_INDEX_MAGIC);
    mvot_wr32(hdr + 4, (uint32_t)sizeof v1 + 4);
    mvot_wr32(sum, mvot_seek_checksum(v1, sizeof v1));
    mvot_buf_append(&bb, hdr, 8);
    mvot_buf_append(&bb, v1, sizeof v1);
    mvot_buf_append(&bb, sum, 4);
    ASSERT_OK(mvot_index_parse(bb.data, bb.len, e.v, 2, "s", &ix2, &ver, &err), &err);
    ASSERT_EQ_INT(ver, 1);
    ASSERT_EQ_INT(ix2.v[1].length, e.v[1].dsize);
    ASSERT_EQ_INT(ix2.v[1].split, MVOT_INDEX_UNKNOWN);
    mvot_index_free(&ix2);
    mvot_buf_free(&bb);
    /* corrupt classes: index checksum, index range, seek footer magic, descriptor, count */
    uint8_t *c = malloc(out.len);
    memcpy(c, out.data, out.len);
    c[index_at + 8 + 12] ^= 0x40;
    ASSERT_EQ_INT(mvot_index_parse(c + index_at, index_len, e.v, 2, "s", &ix2, &ver, &err),
                  MVOT_ERR_CORRUPT);
    ASSERT_EQ_INT(mvot_index_parse(out.data + index_at, index_len, e.v, 3, "s", &ix2, &ver, &err),
                  MVOT_ERR_CORRUPT);
    ASSERT_EQ_INT(
        mvot_index_parse(out.data + index_at, index_len - 3, e.v, 2, "s", &ix2, &ver, &err),
        MVOT_ERR_CORRUPT);
    close(fd);
    const size_t L = out.len;
    struct {
        size_t off;
        uint8_t x;
    } flips[] = {{L - 1, 0x01}, {L - 5, 0x01}, {L - 9, 0x70}, {L - tsz, 0x01}};
    for (size_t k = 0; k < sizeof flips / sizeof *flips; k++) {
        memcpy(c, out.data, out.len);
        c[flips[k].off] ^= flips[k].x;
        mvot_io_write_file(path, c, out.len, &err);
        fd = open(path, O_RDONLY);
        struct mvot_seek_entries bent = {0};
        ASSERT_EQ_INT(mvot_seek_table_read(fd, out.len, "s", &bent, &tsz, &err), MVOT_ERR_CORRUPT);
        close(fd);
    }
    free(c);
    mvot_seek_entries_free(&got);
    mvot_seek_entries_free(&e);
    mvot_index_free(&ix);
    mvot_buf_free(&out);
    ZSTD_freeCCtx(cc);
    free(path);
    free(dir);
}

static void t_sample_members(void)
{
    uint32_t tok[5] = {0, 9000, 8710, 9001, 8710};
    struct mvot_span sp[3] = {{0, 1, 2, 0}, {1, 1, 0, 0}, {2, 3, 2, 1}};
    const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const uint8_t *pngs[1] = {png};
    size_t pl[1] = {8};
    struct mvot_sample_parts p = {"k-x", 1, 0,    2, tok, 5, 0, sp, 3, "{\"key\":\"k-x\"}",
                                  13,    1, pngs, pl};
    struct mvot_packed_sample ps;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_packed_sample_build(&p, &ps, &err), &err);
    ASSERT_EQ_INT(ps.episode_len, 1);
    ASSERT_EQ_INT(ps.task, 2);
    struct mvot_sample s;
    ASSERT_OK(mvot_sample_parse_tar(ps.raw.data, ps.raw.len, "k-x", "t", &s, &err), &err);
    ASSERT_EQ_INT(s.n_tokens, 5);
    ASSERT_EQ_INT(s.tokens[1], 9000);
    ASSERT_EQ_INT(s.n_spans, 3);
    ASSERT_EQ_INT(s.spans[2].loss, 1);
    ASSERT_EQ_INT(s.n_png, 1);
    int32_t lab[5];
    mvot_sample_labels(&s, lab);
    ASSERT_EQ_INT(lab[1], -100);
    ASSERT_EQ_INT(lab[3], 9001);
    mvot_sample_free(&s);
    /* wrong key, and a token that does not fit uint16 */
    ASSERT_EQ_INT(mvot_sample_parse_tar(ps.raw.data, ps.raw.len, "k-y", "t", &s, &err),
                  MVOT_ERR_CORRUPT);
    mvot_packed_sample_free(&ps);
    tok[1] = 70000;
    ASSERT_EQ_INT(mvot_packed_sample_build(&p, &ps, &err), MVOT_ERR_INVALID);
    p.key = "bad.key";
    tok[1] = 1;
    ASSERT_EQ_INT(mvot_packed_sample_build(&p, &ps, &err), MVOT_ERR_INVALID);
    p.key = "k-x";
    p.split = 3; /* index fields are range-checked too */
    ASSERT_EQ_INT(mvot_packed_sample_build(&p, &ps, &err), MVOT_ERR_INVALID);
}

/* docs/shard-format.md and the code agree on the values a reader needs. */
static void t_spec_matches_code(void)
{
    const char *src = getenv("MVOT_SRC");
    if (!src) {
        T_FAIL("MVOT_SRC not set");
        return;
    }
    char *p = mvot_io_join(src, "docs/shard-format.md");
    uint8_t *doc = NULL;
    size_t n = 0;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(p, 1 << 20, &doc, &n, &err), &err);
    if (!doc)
        return;
    const char *d = (const char *)doc;
    char v[64];
    snprintf(v, sizeof v, "0x%08X", MVOT_SEEK_SKIPPABLE_MAGIC);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "0x%08X", MVOT_SEEK_FOOTER_MAGIC);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "0x%08X", MVOT_INDEX_MAGIC);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "%u MiB", MVOT_FRAME_MAX_RAW >> 20);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "version %d", MVOT_SHARD_VERSION);
    ASSERT_CONTAINS(d, v);
    ASSERT_CONTAINS(d, "\"" MVOT_INDEX_TAG "\"");
    ASSERT_CONTAINS(d, "(" MVOT_SHARD_FORMAT_NAME ", version");
    ASSERT_CONTAINS(d, "9-byte footer");
    ASSERT_CONTAINS(d, "(0x80: checksums");
    snprintf(v, sizeof v, "index version (%u)", MVOT_INDEX_VERSION);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "window log %d", MVOT_GROUP_WINDOW_LOG);
    ASSERT_CONTAINS(d, v);
    char name[64];
    ASSERT_TRUE(mvot_shard_file_name(name, sizeof name, "train", 3, 7) > 0);
    ASSERT_EQ_STR(name, "train/shard-00003-000007.tar.zst");
    ASSERT_CONTAINS(d, "`{split}/shard-{part:05}-{n:06}.tar.zst`");
    ASSERT_CONTAINS(d, "`manifest_xxh3`");
    ASSERT_CONTAINS(d, "`index_xxh3`");
    /* member order as the reader enforces it */
    const char *a = strstr(d, "`{key}.tokens.npy`"), *b = strstr(d, "`{key}.spans.npy`"),
               *c = strstr(d, "`{key}.json`"), *e = strstr(d, "`{key}.{j}.png`");
    ASSERT_TRUE(a && b && c && e && a < b && b < c && c < e);
    free(doc);
    free(p);
}

TEST_MAIN(t_tar, t_seek_and_index, t_sample_members, t_spec_matches_code)
