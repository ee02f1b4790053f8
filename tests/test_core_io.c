/* core/io, core/status, core/hash, core/outdir: atomic writes (including a crash before
 * rename), read limits, error context, hashing, output-folder overlap, lock and ownership. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/outdir.h"
#include "tests/test.h"

static void test_atomic_write_roundtrip(void)
{
    struct mvot_error err;
    char *d = t_tmpdir();
    char *p = mvot_io_join(d, "a.bin");
    ASSERT_OK(mvot_io_write_file(p, "hello", 5, &err), &err);
    uint8_t *buf;
    size_t len;
    ASSERT_OK(mvot_io_read_file(p, 1024, &buf, &len, &err), &err);
    ASSERT_EQ_INT(len, 5);
    ASSERT_TRUE(memcmp(buf, "hello", 5) == 0);
    free(buf);
    /* Over the limit: a clear error naming the file. */
    ASSERT_EQ_INT(mvot_io_read_file(p, 3, &buf, &len, &err), MVOT_ERR_NOMEM);
    ASSERT_CONTAINS(err.msg, "a.bin");
    free(p);
    free(d);
}

static void test_atomic_crash_before_rename(void)
{
    char *d = t_tmpdir();
    char *p = mvot_io_join(d, "final.bin");
    pid_t pid = fork();
    if (pid == 0) {
        struct mvot_atomic_file af;
        struct mvot_error err;
        if (mvot_atomic_open(&af, p, &err) != MVOT_OK)
            _exit(3);
        fwrite("partial", 1, 7, af.fp);
        fflush(af.fp);
        raise(SIGKILL); /* die mid-write, as a crash would */
        _exit(4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_TRUE(!mvot_io_exists(p)); /* no final file appears */
    /* An aborted writer also leaves nothing behind, not even its temp file. */
    struct mvot_atomic_file af;
    struct mvot_error err;
    ASSERT_OK(mvot_atomic_open(&af, p, &err), &err);
    char *tmp = strdup(af.tmp_path);
    mvot_atomic_abort(&af);
    ASSERT_TRUE(!mvot_io_exists(p));
    ASSERT_TRUE(!mvot_io_exists(tmp));
    free(tmp);
    free(p);
    free(d);
}

static void test_error_context(void)
{
    struct mvot_error err;
    ASSERT_EQ_INT(mvot_error_corrupt(&err, "x.bin", 17, "bad %s", "thing"), MVOT_ERR_CORRUPT);
    ASSERT_EQ_STR(err.msg, "x.bin: offset 17: bad thing");
    mvot_error_prefix(&err, "shard %d", 3);
    ASSERT_EQ_STR(err.msg, "shard 3: x.bin: offset 17: bad thing");
    mvot_error_set(&err, MVOT_ERR_IO, "f", "line1\nline2");
    ASSERT_TRUE(strchr(err.msg, '\n') == NULL); /* always one line */
    ASSERT_EQ_INT(mvot_error_set(NULL, MVOT_ERR_IO, NULL, "x"), MVOT_ERR_IO);
    ASSERT_EQ_STR(mvot_status_str(MVOT_ERR_CORRUPT), "corrupt input");
    struct mvot_error big;
    char longs[2000];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    mvot_error_set(&big, MVOT_ERR_IO, longs, "%s", longs);
    ASSERT_EQ_INT(strlen(big.msg), MVOT_ERROR_MSG_MAX - 1);
}

static void test_mkdirs_and_buf(void)
{
    struct mvot_error err;
    char *d = t_tmpdir();
    char *deep = mvot_strdupf("%s/a/b/c", d);
    ASSERT_OK(mvot_io_mkdirs(deep, &err), &err);
    ASSERT_OK(mvot_io_mkdirs(deep, &err), &err); /* idempotent */
    ASSERT_TRUE(mvot_io_exists(deep));
    struct mvot_buf b;
    mvot_buf_init(&b, 8);
    ASSERT_EQ_INT(mvot_buf_append(&b, "12345678", 8), MVOT_OK);
    ASSERT_EQ_INT(mvot_buf_append(&b, "9", 1), MVOT_ERR_NOMEM); /* capped */
    mvot_buf_free(&b);
    mvot_buf_init(&b, 0);
    ASSERT_EQ_INT(mvot_buf_printf(&b, "%d-%s", 42, "x"), MVOT_OK);
    ASSERT_EQ_STR((char *)b.data, "42-x");
    mvot_buf_free(&b);
    free(deep);
    free(d);
}

static void test_hash(void)
{
    char hex[17];
    uint64_t h = mvot_hash64("abc", 3), back;
    mvot_hash_hex(h, hex);
    ASSERT_EQ_INT(strlen(hex), 16);
    ASSERT_EQ_INT(mvot_hash_parse_hex(hex, &back), 0);
    ASSERT_EQ_U64(back, h);
    ASSERT_EQ_INT(mvot_hash_parse_hex("xyz", &back), -1);
    /* Known XXH3-64 value of the empty input (from the xxHash specification). */
    ASSERT_EQ_U64(mvot_hash64("", 0), 0x2D06800538D394C2ull);
    struct mvot_hasher s;
    ASSERT_EQ_INT(mvot_hasher_init(&s), MVOT_OK);
    mvot_hasher_update(&s, "a", 1);
    mvot_hasher_update(&s, "bc", 2);
    ASSERT_EQ_U64(mvot_hasher_digest(&s), h);
    mvot_hasher_free(&s);
    struct mvot_error err;
    char *d = t_tmpdir();
    char *p = mvot_io_join(d, "h");
    ASSERT_OK(mvot_io_write_file(p, "abc", 3, &err), &err);
    uint64_t fh;
    ASSERT_OK(mvot_hash_file(p, &fh, &err), &err);
    ASSERT_EQ_U64(fh, h);
    free(p);
    free(d);
}

/* Output folders: overlap with an input in all three directions, one lock holder at a time
 * (flock locks belong to the open file, so a second lock in this process conflicts too),
 * a killed holder's temp files removed by its pid and only for owned names, foreign files
 * refused. */
static void test_outdir(void)
{
    struct mvot_error err = {0};
    char *d = t_tmpdir();
    char *in = mvot_strdupf("%s/in", d), *tok = mvot_strdupf("%s/in/tok.json", d);
    char *out = mvot_strdupf("%s/out", d), *inner = mvot_strdupf("%s/in/sub/x", d);
    ASSERT_OK(mvot_io_mkdirs(in, &err), &err);
    ASSERT_OK(mvot_io_write_file(tok, "{}", 2, &err), &err);
    const char *inputs[] = {in, NULL};
    const char *files[] = {tok};
    ASSERT_EQ_INT(mvot_outdir_check_overlap(in, inputs, 2, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "is the input");
    ASSERT_EQ_INT(mvot_outdir_check_overlap(inner, inputs, 2, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "lies inside the input");
    ASSERT_EQ_INT(mvot_outdir_check_overlap(d, files, 1, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "contains the input");
    ASSERT_OK(mvot_outdir_check_overlap(out, inputs, 2, &err), &err);

    struct mvot_outdir_lock *a = NULL, *b = NULL;
    ASSERT_OK(mvot_outdir_lock(out, "test one", &a, &err), &err);
    ASSERT_EQ_INT(mvot_outdir_stale_pid(a), 0);
    ASSERT_EQ_INT(mvot_outdir_lock(out, "test two", &b, &err), MVOT_ERR_IO);
    ASSERT_CONTAINS(err.msg, "command test one");
    ASSERT_TRUE(b == NULL);
    mvot_outdir_unlock(a);
    /* a killed holder: its record stays, its temp files go, others' stay */
    char *lockf = mvot_strdupf("%s/" MVOT_OUTDIR_LOCK_FILE, out);
    char *t1 = mvot_strdupf("%s/.mine.tmp.777.0", out),
         *t2 = mvot_strdupf("%s/.mine.tmp.778.0", out);
    char *t3 = mvot_strdupf("%s/.other.tmp.777.0", out);
    ASSERT_OK(mvot_io_write_file(lockf, "pid 777 host h command x\n", 25, &err), &err);
    FILE *fp;
    ASSERT_TRUE((fp = fopen(t1, "w")) != NULL);
    fclose(fp);
    ASSERT_TRUE((fp = fopen(t2, "w")) != NULL);
    fclose(fp);
    ASSERT_TRUE((fp = fopen(t3, "w")) != NULL);
    fclose(fp);
    ASSERT_OK(mvot_outdir_lock(out, "test three", &a, &err), &err);
    ASSERT_EQ_INT((int)mvot_outdir_stale_pid(a), 777);
    const char *owned[] = {"mine"};
    mvot_outdir_clean_stale(a, owned, 1);
    ASSERT_TRUE(!mvot_io_exists(t1));
    ASSERT_TRUE(mvot_io_exists(t2) && mvot_io_exists(t3));
    ASSERT_EQ_INT(mvot_outdir_check_foreign(out, owned, 1, "a test set", &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "which is not part of a test set");
    ASSERT_EQ_INT(mvot_outdir_remove(out, (const char *[]){"../in"}, 1, &err), MVOT_ERR_CORRUPT);
    ASSERT_TRUE(mvot_io_exists(tok));
    mvot_outdir_unlock(a);
    struct stat sb;
    ASSERT_TRUE(stat(lockf, &sb) == 0 && sb.st_size == 0); /* released: record emptied */
    free(lockf);
    free(t1);
    free(t2);
    free(t3);
    free(in);
    free(tok);
    free(out);
    free(inner);
    free(d);
}

TEST_MAIN(test_atomic_write_roundtrip, test_atomic_crash_before_rename, test_error_context,
          test_mkdirs_and_buf, test_hash, test_outdir)
