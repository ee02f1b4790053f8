/* Shared by the shard-directory fuzz targets (fuzz_shard_read, fuzz_manifest): turns one
 * fuzz input into a shard directory on disk, because the reader's public API opens a
 * directory. Header-only (static functions), like the tests' fixtures.
 *
 * Input layout, all lengths u32 little-endian and clamped to the bytes that remain:
 *   len, manifest.json bytes, then for each entry of the manifest's "shards" array in order:
 *   len, that shard file's bytes (written under the entry's "file" name).
 * Names are written if they are a plain file name, or one split folder (train, dev, test)
 * and a plain file name, as format 2 names its shards ("train/shard-00000-000000.tar.zst");
 * anything else ("..", other folders, over 64 bytes, "manifest.json") is not written, so
 * nothing leaves the directory; shards past the input's end are simply absent.
 * tests/fuzz/make-seeds.sh builds such inputs from real `mvot build` output. The layout does
 * not depend on the shard format's version: only "shards"[]."file" is read here. */
#ifndef MVOT_TESTS_FUZZ_SHARD_DIR_H
#define MVOT_TESTS_FUZZ_SHARD_DIR_H

#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_MAX_FILES 16

static char fz_dir[512];
static char fz_written[FZ_MAX_FILES][80];
static size_t fz_n_written;

static const char *const fz_splits[] = {"train", "dev", "test"};

static void fz_clear(void)
{
    char p[2048];
    for (size_t i = 0; i < fz_n_written; i++) {
        snprintf(p, sizeof p, "%s/%s", fz_dir, fz_written[i]);
        unlink(p);
    }
    for (size_t k = 0; k < 3; k++) { /* the split folders, once empty */
        snprintf(p, sizeof p, "%s/%s", fz_dir, fz_splits[k]);
        rmdir(p);
    }
    fz_n_written = 0;
}

static void fz_cleanup(void)
{
    fz_clear();
    if (fz_dir[0])
        rmdir(fz_dir);
}

static uint32_t fz_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Takes the next length-prefixed chunk of [*pos, size). */
static const uint8_t *fz_chunk(const uint8_t *data, size_t size, size_t *pos, size_t *len)
{
    if (size - *pos < 4) {
        *len = size - *pos;
        const uint8_t *p = data + *pos;
        *pos = size;
        return p;
    }
    size_t n = fz_rd32(data + *pos);
    *pos += 4;
    if (n > size - *pos)
        n = size - *pos;
    *len = n;
    const uint8_t *p = data + *pos;
    *pos += n;
    return p;
}

static int fz_plain_name(const char *s)
{
    /* one split folder first, made here when needed */
    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(fz_splits[k]);
        if (strncmp(s, fz_splits[k], l) == 0 && s[l] == '/' && !strchr(s + l + 1, '/')) {
            char p[2048];
            snprintf(p, sizeof p, "%s/%s", fz_dir, fz_splits[k]);
            mkdir(p, 0755);
            s += l + 1;
            break;
        }
    }
    size_t n = strlen(s);
    if (n == 0 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
        strcmp(s, "manifest.json") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

static int fz_new_name(const char *s)
{
    for (size_t i = 0; i < fz_n_written; i++)
        if (strcmp(fz_written[i], s) == 0)
            return 0;
    return 1;
}

static void fz_write(const char *name, const uint8_t *p, size_t n)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", fz_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        abort(); /* the harness's own failure, not the library's */
    close(fd);
    snprintf(fz_written[fz_n_written++], sizeof fz_written[0], "%s", name);
}

/* Writes the directory for this input and returns its path (valid for the process). */
static const char *fz_shard_dir(const uint8_t *data, size_t size)
{
    if (!fz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/mvot-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fz_dir))
            abort();
        atexit(fz_cleanup);
    }
    fz_clear();
    size_t pos = 0, mlen = 0;
    const uint8_t *man = fz_chunk(data, size, &pos, &mlen);
    fz_write("manifest.json", man, mlen);
    json_t *root = json_loadb((const char *)man, mlen, 0, NULL);
    json_t *shards = json_object_get(root, "shards");
    for (size_t i = 0; i < json_array_size(shards) && pos < size; i++) {
        const char *file = json_string_value(json_object_get(json_array_get(shards, i), "file"));
        size_t len = 0;
        const uint8_t *p = fz_chunk(data, size, &pos, &len);
        if (file && fz_plain_name(file) && fz_new_name(file) && fz_n_written < FZ_MAX_FILES)
            fz_write(file, p, len);
    }
    json_decref(root);
    return fz_dir;
}

#endif
