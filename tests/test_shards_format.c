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

static void t_seek_and_index(void)
{
    char *dir = t_tmpdir(), *path = mvot_io_join(dir, "s.bin");
    struct mvot_buf out;
    mvot_buf_init(&out, 0);
    struct mvot_seek_entries e = {0};
    struct mvot_error err = {0};
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    static uint8_t big[MVOT_FRAME_MAX_RAW + 100];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 / 5);
    ASSERT_OK(mvot_seekzstd_compress(cc, 3, big, sizeof big, &out, &e, &err), &err);
    ASSERT_EQ_INT(e.n, 2); /* split at 4 MiB */
    ASSERT_EQ_INT(e.v[0].dsize, MVOT_FRAME_MAX_RAW);
    ASSERT_OK(mvot_seekzstd_compress(cc, 3, big, 0, &out, &e, &err), &err);
    ASSERT_EQ_INT(e.n, 3); /* an empty input still gets one frame */
    /* frames decode with plain zstd and carry checksums */
    ASSERT_EQ_U64(ZSTD_getFrameContentSize(out.data, e.v[0].csize), MVOT_FRAME_MAX_RAW);
    struct mvot_index ix = {0};
    mvot_index_push(&ix, "a-0", 0, 2);
    mvot_index_push(&ix, "b-1", 2, 1);
    size_t index_at = out.len;
    ASSERT_EQ_INT(mvot_index_encode(&ix, &out), MVOT_OK);
    size_t index_len = out.len - index_at;
    ASSERT_EQ_INT(mvot_seek_table_encode(e.v, e.n, &out), MVOT_OK);
    ASSERT_EQ_U64(mvot_rd32(out.data + out.len - 4), MVOT_SEEK_FOOTER_MAGIC);
    ASSERT_OK(mvot_io_write_file(path, out.data, out.len, &err), &err);
    int fd = open(path, O_RDONLY);
    struct mvot_seek_entries got = {0};
    uint64_t tsz = 0;
    ASSERT_OK(mvot_seek_table_read(fd, out.len, "s", &got, &tsz, &err), &err);
    ASSERT_EQ_INT(got.n, 3);
    ASSERT_EQ_INT(tsz, 8 + 3 * 12 + 9);
    ASSERT_EQ_U64(got.v[1].checksum, e.v[1].checksum);
    struct mvot_index ix2 = {0};
    ASSERT_OK(mvot_index_parse(out.data + index_at, index_len, 3, "s", &ix2, &err), &err);
    ASSERT_EQ_INT(ix2.n, 2);
    ASSERT_EQ_STR(ix2.v[1].key, "b-1");
    mvot_index_free(&ix2);
    /* corrupt classes: index checksum, index range, seek footer magic, descriptor, count */
    uint8_t *c = malloc(out.len);
    memcpy(c, out.data, out.len);
    c[index_at + 8 + 12] ^= 0x40;
    ASSERT_EQ_INT(mvot_index_parse(c + index_at, index_len, 3, "s", &ix2, &err), MVOT_ERR_CORRUPT);
    ASSERT_EQ_INT(mvot_index_parse(out.data + index_at, index_len, 2, "s", &ix2, &err),
                  MVOT_ERR_CORRUPT);
    ASSERT_EQ_INT(mvot_index_parse(out.data + index_at, index_len - 3, 3, "s", &ix2, &err),
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
        struct mvot_seek_entries bad = {0};
        ASSERT_EQ_INT(mvot_seek_table_read(fd, out.len, "s", &bad, &tsz, &err), MVOT_ERR_CORRUPT);
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
    struct mvot_sample_parts p = {"k-x", tok, 5, 0, sp, 3, "{\"key\":\"k-x\"}", 13, 1, pngs, pl};
    struct mvot_packed_sample ps;
    struct mvot_error err = {0};
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ASSERT_OK(mvot_packed_sample_build(cc, 3, &p, &ps, &err), &err);
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
    ASSERT_EQ_INT(mvot_packed_sample_build(cc, 3, &p, &ps, &err), MVOT_ERR_INVALID);
    p.key = "bad.key";
    tok[1] = 1;
    ASSERT_EQ_INT(mvot_packed_sample_build(cc, 3, &p, &ps, &err), MVOT_ERR_INVALID);
    ZSTD_freeCCtx(cc);
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
    /* member order as the reader enforces it */
    const char *a = strstr(d, "`{key}.tokens.npy`"), *b = strstr(d, "`{key}.spans.npy`"),
               *c = strstr(d, "`{key}.json`"), *e = strstr(d, "`{key}.{j}.png`");
    ASSERT_TRUE(a && b && c && e && a < b && b < c && c < e);
    free(doc);
    free(p);
}

TEST_MAIN(t_tar, t_seek_and_index, t_sample_members, t_spec_matches_code)
