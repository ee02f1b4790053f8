"""libmvot.so from Python through ctypes alone: the version, the status names, a tokenizer
round trip, and every sample of a shard set equal to `mvot cat --json` (input_ids, labels).
usage: ctypes_smoke.py LIBMVOT_SO SHARD_DIR CAT_JSONL"""
import ctypes
import json
import sys


class MvotError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 512)]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    shard_dir, cat = sys.argv[2].encode(), [json.loads(l) for l in open(sys.argv[3])]
    P, I32P = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32)
    lib.mvot_version.restype = ctypes.c_char_p
    lib.mvot_status_str.restype = ctypes.c_char_p
    lib.mvot_free.argtypes = [P]
    lib.mvot_shards_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(MvotError)]
    lib.mvot_shards_count.argtypes = [P]
    lib.mvot_shards_count.restype = ctypes.c_uint64
    lib.mvot_shards_read.argtypes = [P, ctypes.c_uint64, ctypes.POINTER(ctypes.c_char_p),
                                     ctypes.POINTER(I32P), ctypes.POINTER(I32P),
                                     ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(MvotError)]
    lib.mvot_shards_close.argtypes = [P]
    lib.mvot_tokenizer_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(P), ctypes.POINTER(MvotError)]
    lib.mvot_tokenizer_encode.argtypes = [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
                                          ctypes.POINTER(I32P), ctypes.POINTER(ctypes.c_size_t),
                                          ctypes.POINTER(MvotError)]
    lib.mvot_tokenizer_decode.argtypes = [P, I32P, ctypes.c_size_t, ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(MvotError)]
    lib.mvot_tokenizer_free.argtypes = [P]

    assert lib.mvot_version().decode()[0].isdigit()
    assert lib.mvot_status_str(-3) == b"corrupt input", lib.mvot_status_str(-3)
    err = MvotError()

    h = P()
    assert lib.mvot_shards_open(b"/nonexistent-dir", ctypes.byref(h), ctypes.byref(err)) != 0
    assert b"/nonexistent-dir" in err.msg, err.msg
    assert lib.mvot_shards_open(shard_dir, ctypes.byref(h), ctypes.byref(err)) == 0, err.msg
    n = lib.mvot_shards_count(h)
    assert n == len(cat), (n, len(cat))
    for i, c in enumerate(cat):
        key, ids, labels, nt = ctypes.c_char_p(), I32P(), I32P(), ctypes.c_size_t()
        st = lib.mvot_shards_read(h, i, ctypes.byref(key), ctypes.byref(ids), ctypes.byref(labels),
                                  ctypes.byref(nt), ctypes.byref(err))
        assert st == 0, err.msg
        assert key.value.decode() == c["key"]
        assert ids[:nt.value] == c["input_ids"], c["key"]
        assert labels[:nt.value] == c["labels"], c["key"]
        # c_char_p copied the key; the buffers themselves go back to the library
        for p in (ctypes.cast(key, P), ctypes.cast(ids, P), ctypes.cast(labels, P)):
            lib.mvot_free(p)
    lib.mvot_shards_close(h)

    t = P()
    assert lib.mvot_tokenizer_load(shard_dir + b"/tokenizer.json", ctypes.byref(t), ctypes.byref(err)) == 0
    text = "Go right. The answer is B.".encode()
    ids, n_ids = I32P(), ctypes.c_size_t()
    assert lib.mvot_tokenizer_encode(t, text, len(text), 0, ctypes.byref(ids), ctypes.byref(n_ids),
                                     ctypes.byref(err)) == 0, err.msg
    out = ctypes.c_void_p()
    assert lib.mvot_tokenizer_decode(t, ids, n_ids, 0, ctypes.byref(out), ctypes.byref(err)) == 0
    assert ctypes.string_at(out) == text, ctypes.string_at(out)
    lib.mvot_free(ids)
    lib.mvot_free(out)
    lib.mvot_tokenizer_free(t)
    print("ctypes ok:", n, "samples,", n_ids.value, "ids")


main()
