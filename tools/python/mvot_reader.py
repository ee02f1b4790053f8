"""Reader for mvot shard sets (docs/shard-format.md, format 2 and 1), numpy + zstandard only.

    from mvot_reader import open_shards
    for s in open_shards("mvot-out/shards", split="train", tasks=["maze"]):
        s["key"], s["input_ids"], s["labels"]   # labels: -100 on every input position

A set is ROOT/manifest.json plus ROOT/{split}/shard-{block}-{n}.tar.zst (format 2); giving
ROOT/train opens the root's manifest restricted to that split. Selecting by split or task
reads only each shard's index (split, task and episode of every sample are in it), never
the samples. Random access goes through the seek table and index, so reading one sample
decompresses only its episode's group frame (kept for the next read):

    ds = ShardSet("mvot-out/shards"); ds[17]; ds.find("maze-000003-v002")

Identity (format 2), as the C readers: the manifest must match its manifest_xxh3, and each
shard its size and index_xxh3 before use; a mismatch raises ShardError naming the file.
Format 1 sets read with a warning (they carry no identity). XXH3 comes from the system
libxxhash (ctypes; the C build's own dependency) or the xxhash module.

Run with Debian's /usr/bin/python3 (python3-numpy, python3-zstandard). torch is imported
only by make_torch_dataset().
"""

import ctypes
import ctypes.util
import io
import json
import os
import struct
import sys
import warnings

import numpy as np
import zstandard

SEEK_SKIPPABLE_MAGIC = 0x184D2A5E
SEEK_FOOTER_MAGIC = 0x8F92EAB1
INDEX_MAGIC = 0x184D2A5A
MOD_TEXT, MOD_IMAGE, MOD_SPECIAL = 0, 1, 2
SPLITS = ("train", "dev", "test")
TASKS = ("maze", "frozenlake", "minibehavior")
VERSIONS = (1, 2)


class ShardError(Exception):
    pass


def _xxh3_impl():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
        f = lib.XXH3_64bits
        f.restype = ctypes.c_uint64
        f.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        return lambda b: f(bytes(b), len(b))
    except (OSError, AttributeError):
        pass
    try:
        import xxhash

        return lambda b: xxhash.xxh3_64_intdigest(bytes(b))
    except ImportError:
        return None


_xxh3 = _xxh3_impl()


def xxh3_hex(data):
    if _xxh3 is None:
        raise ShardError("no XXH3 implementation (libxxhash or the xxhash module) to check identity")
    return "%016x" % _xxh3(data)


def _jansson_real(x):
    # jansson's "%.17g", a ".0" when it would read back as an integer, exponent without "+"
    # or leading zeros
    s = "%.17g" % x
    if "." not in s and "e" not in s:
        s += ".0"
    if "e" in s:
        m, e = s.split("e")
        sign = "-" if e.startswith("-") else ""
        s = m + "e" + sign + e.lstrip("+-").lstrip("0")
    return s


def _canon_float(x):
    # core/json.c: the shortest "%.Ng" reading back as the same double, plain when jansson's
    # text was, ".0" kept, never longer than jansson's text: the C writer's canonical bytes.
    t = _jansson_real(x)
    plain = "e" not in t
    b = ""
    for p in range(1, 18):
        b = "%.*g" % (p, x)
        if float(b) == x and (not plain or "e" not in b):
            break
    if "." not in b and "e" not in b:
        b += ".0"
    return t if len(b) > len(t) else b


def _canon_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(o, "\\u%04X" % o))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical_json(v):
    """The manifest's canonical form: compact, keys sorted (as the C writer's jansson dump)."""
    if isinstance(v, dict):
        return "{" + ",".join(_canon_str(k) + ":" + canonical_json(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _canon_float(v)
    return _canon_str(v)


def manifest_digest(manifest):
    body = {k: v for k, v in manifest.items() if k != "manifest_xxh3"}
    return xxh3_hex(canonical_json(body).encode())


def _parse_npy(buf):
    return np.load(io.BytesIO(buf), allow_pickle=False)


def _tar_members(raw):
    """Yields (name, bytes) of the ustar members in raw (one sample's bytes)."""
    pos = 0
    while pos + 512 <= len(raw):
        hdr = raw[pos : pos + 512]
        if hdr == b"\0" * 512:
            return
        if hdr[257:262] != b"ustar":
            raise ShardError("bad tar header at %d" % pos)
        name = hdr[:100].split(b"\0", 1)[0].decode()
        size = int(hdr[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        data = raw[pos + 512 : pos + 512 + size]
        if len(data) != size:
            raise ShardError("truncated member %s" % name)
        yield name, data
        pos += 512 + (size + 511) // 512 * 512


class Shard:
    """One seekable .tar.zst: seek table, index, and per-sample reads. record: its manifest
    entry (format 2: size and index_xxh3 are checked here, before any sample is read)."""

    def __init__(self, path, version, record=None):
        self.path = path
        if not os.path.isfile(path):  # a FIFO named like a shard would block open()
            raise ShardError("%s: missing or not a regular file" % path)
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if version >= 2 and size != record["compressed_bytes"]:
                raise ShardError("%s: %d bytes, the manifest says %d: not the shard the manifest "
                                 "lists" % (path, size, record["compressed_bytes"]))
            if size < 17:
                raise ShardError("%s: too small" % path)
            f.seek(size - 9)
            nframes, desc, magic = struct.unpack("<IBI", f.read(9))
            if magic != SEEK_FOOTER_MAGIC or desc != 0x80:
                raise ShardError("%s: no seek table" % path)
            tsize = 8 + nframes * 12 + 9
            if nframes == 0 or tsize > size:
                raise ShardError("%s: bad seek table" % path)
            f.seek(size - tsize)
            tab = f.read(tsize)
            m, fsz = struct.unpack_from("<II", tab, 0)
            if m != SEEK_SKIPPABLE_MAGIC or fsz != tsize - 8:
                raise ShardError("%s: bad seek table frame" % path)
            ent = np.frombuffer(tab, dtype="<u4", count=nframes * 3, offset=8).reshape(nframes, 3)
            self.csize = ent[:, 0].astype(np.int64)
            self.dsize = ent[:, 1].astype(np.int64)
            self.coff = np.concatenate([[0], np.cumsum(self.csize)])
            ioff = int(self.coff[-1])
            if ioff > size - tsize:
                raise ShardError("%s: seek table exceeds the file" % path)
            f.seek(ioff)
            tail = f.read(size - ioff)
        if version >= 2 and xxh3_hex(tail) != record["index_xxh3"]:
            raise ShardError("%s: index/seek table XXH3 differs from the manifest: not the shard "
                             "the manifest lists" % path)
        ib = tail[: len(tail) - tsize]
        m, clen = struct.unpack_from("<II", ib, 0)
        if m != INDEX_MAGIC or clen != len(ib) - 8 or ib[8:12] != b"MVIX":
            raise ShardError("%s: bad index frame" % path)
        ver, n = struct.unpack_from("<II", ib, 12)
        if ver != version:
            raise ShardError("%s: index version %d in a version %d set" % (path, ver, version))
        pos = 20
        # per sample: first frame, frame count, offset and length in those frames' bytes,
        # split and task codes (255: unknown, v1), episode key length, key
        self.keys, self.loc, self.split, self.task, self.episode = [], [], [], [], []
        for _ in range(n):
            if ver == 1:
                ff, nf, kl = struct.unpack_from("<IIH", ib, pos)
                pos += 10
                off, ln = 0, int(self.dsize[ff : ff + nf].sum())
                sp, tk, el = 255, 255, 0
            else:
                ff, off, ln, sp, tk, el, kl = struct.unpack_from("<IIIBBHH", ib, pos)
                nf = 1
                pos += 18
            key = ib[pos : pos + kl].decode()
            pos += kl
            self.keys.append(key)
            self.loc.append((ff, nf, off, ln))
            self.split.append(sp)
            self.task.append(tk)
            self.episode.append(key[:el] if el else None)
        self._dctx = zstandard.ZstdDecompressor()
        self._group = (None, b"")

    def __len__(self):
        return len(self.keys)

    def raw(self, j):
        ff, nf, off, ln = self.loc[j]
        if self._group[0] != (ff, nf):
            c0, c1 = int(self.coff[ff]), int(self.coff[ff + nf])
            with open(self.path, "rb") as f:
                f.seek(c0)
                comp = f.read(c1 - c0)
            out, pos = [], 0
            for k in range(ff, ff + nf):
                cs = int(self.csize[k])
                out.append(self._dctx.decompress(comp[pos : pos + cs],
                                                 max_output_size=int(self.dsize[k])))
                pos += cs
            self._group = ((ff, nf), b"".join(out))
        return self._group[1][off : off + ln]

    def sample(self, j):
        key = self.keys[j]
        s = {"key": key, "png": []}
        for name, data in _tar_members(self.raw(j)):
            k, ext = name.split(".", 1)
            if k != key:
                raise ShardError("%s: member %s inside sample %s" % (self.path, name, key))
            if ext == "tokens.npy":
                s["tokens"] = _parse_npy(data)
            elif ext == "spans.npy":
                s["spans"] = _parse_npy(data)
            elif ext == "json":
                s["meta"] = json.loads(data)
            else:
                s["png"].append(data)
        # int64 whatever the storage dtype: torch < 2.3 rejects uint16
        tokens = s["tokens"].astype(np.int64)
        labels = np.full(tokens.shape, -100, dtype=np.int64)
        for start, length, _mod, loss in s["spans"]:
            if loss:
                labels[start : start + length] = tokens[start : start + length]
        s["input_ids"] = tokens
        s["labels"] = labels
        return s


def locate(path):
    """(root, split): path holds manifest.json, or is ROOT/{split} of a format 2 set."""
    if os.path.exists(os.path.join(path, "manifest.json")):
        return path, None
    p = os.path.normpath(path)
    base, parent = os.path.basename(p), os.path.dirname(p) or "."
    if base in SPLITS and os.path.exists(os.path.join(parent, "manifest.json")):
        return parent, base
    raise ShardError("%s: no manifest.json: not a shard set root or one split's folder" % path)


class ShardSet:
    """A shard set (root or one split's folder), optionally restricted to a split and tasks.
    Indices run over the selected samples, in the set's order."""

    def __init__(self, path, split=None, tasks=None):
        self.root, folder_split = locate(path)
        if split is not None and folder_split is not None and split != folder_split:
            raise ShardError("%s: split %s asked of the %s folder" % (path, split, folder_split))
        split = split or folder_split
        if split is not None and split not in SPLITS:
            raise ShardError("unknown split %r (want one of %s)" % (split, ", ".join(SPLITS)))
        for t in tasks or ():
            if t not in TASKS:
                raise ShardError("unknown task %r (want one of %s)" % (t, ", ".join(TASKS)))
        mpath = os.path.join(self.root, "manifest.json")
        with open(mpath) as f:
            self.manifest = json.load(f)
        self.version = self.manifest.get("version")
        if self.manifest.get("format") != "mvot-shards" or self.version not in VERSIONS:
            raise ShardError("%s: not an mvot-shards version 1 or 2 manifest" % mpath)
        if self.version >= 2:
            if self.manifest.get("manifest_xxh3") != manifest_digest(self.manifest):
                raise ShardError("%s: manifest_xxh3 does not match its content: the manifest "
                                 "was edited or damaged" % mpath)
        else:
            warnings.warn("%s: shard format version 1 carries no identity: shards are not "
                          "checked against the manifest (mvot retokenize migrates it)" % self.root)
        self.records = self.manifest["shards"]
        if self.version >= 2 and split is not None:
            self.records = [r for r in self.records if r["split"] == split]
        self._shards = {}
        self._keys = None
        self.sel = None  # (shard, sample) pairs when selecting inside shards
        if tasks is not None or (split is not None and self.version < 2):
            want_t = {TASKS.index(t) for t in tasks} if tasks is not None else None
            sel = []
            for k in range(len(self.records)):
                sh = self._shard(k)
                for j in range(len(sh)):
                    if self.version < 2:  # v1: no index fields, read the sample json
                        meta = sh.sample(j)["meta"]
                        ok = (split is None or meta["split"] == split) and (
                            want_t is None or meta["task"] in tasks)
                    else:
                        ok = want_t is None or sh.task[j] in want_t
                    if ok:
                        sel.append((k, j))
            self.sel = sel
        self.first = np.cumsum([0] + [r["samples"] for r in self.records])
        self.count = len(self.sel) if self.sel is not None else int(self.first[-1])

    def __len__(self):
        return self.count

    def _shard(self, k):
        if k not in self._shards:
            r = self.records[k]
            self._shards[k] = Shard(os.path.join(self.root, r["file"]), self.version, r)
        return self._shards[k]

    def _locate(self, i):
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        if self.sel is not None:
            return self.sel[i]
        k = int(np.searchsorted(self.first, i, side="right")) - 1
        while i >= self.first[k + 1]:
            k += 1
        return k, int(i - self.first[k])

    def __getitem__(self, i):
        k, j = self._locate(i)
        return self._shard(k).sample(j)

    def index_fields(self, i):
        """(key, split, task, episode) of sample i from the index alone (None where unknown)."""
        k, j = self._locate(i)
        sh = self._shard(k)
        sp, tk = sh.split[j], sh.task[j]
        return (sh.keys[j], SPLITS[sp] if sp < 3 else None, TASKS[tk] if tk < 3 else None,
                sh.episode[j])

    def find(self, key):
        if self._keys is None:
            self._keys = {self.index_fields(i)[0]: i for i in range(self.count)}
        return self[self._keys[key]]

    def __iter__(self):
        for i in range(self.count):
            yield self[i]


def open_shards(root, split="train", tasks=None):
    """Iterates the samples of a shard set (its root or one split's folder) as dicts with key,
    input_ids, labels (-100 on input positions), spans, meta and png (the stored source
    frames). split: "train" (default), "dev", "test" or None for every split; tasks: None or
    a list of task names. Selection reads the shards' indices, not the samples."""
    return iter(ShardSet(root, split=split, tasks=tasks))


def make_torch_dataset(directory, split="train", tasks=None):
    """An example map-style PyTorch Dataset over a shard set (imports torch lazily)."""
    import torch

    class MvotDataset(torch.utils.data.Dataset):
        def __init__(self):
            self.set = ShardSet(directory, split=split, tasks=tasks)

        def __len__(self):
            return len(self.set)

        def __getitem__(self, i):
            s = self.set[i]
            return {
                "input_ids": torch.from_numpy(s["input_ids"]),
                "labels": torch.from_numpy(s["labels"]),
            }

    return MvotDataset()


if __name__ == "__main__":
    # mvot_reader.py DIR [KEY|INDEX]: prints the sample as one JSON line (like `mvot cat --json`
    # for key, input_ids, labels), or every key with its token count.
    try:
        ds = ShardSet(sys.argv[1])
    except ShardError as e:
        print("mvot_reader: %s" % e, file=sys.stderr)
        sys.exit(1)
    if len(sys.argv) > 2:
        w = sys.argv[2]
        s = ds[int(w)] if w.isdigit() else ds.find(w)
        print(json.dumps({"key": s["key"], "input_ids": s["input_ids"].tolist(),
                          "labels": s["labels"].tolist()}, sort_keys=True))
    else:
        for s in ds:
            print(s["key"], len(s["input_ids"]))
