"""Reader for mvot shard directories (docs/shard-format.md), numpy + zstandard only.

    from mvot_reader import open_shards
    for s in open_shards("mvot-out/shards"):
        s["key"], s["input_ids"], s["labels"]   # labels: -100 on every input position

Random access goes through each shard's seek table and index frame, so reading one sample
decompresses only its own zstd frames:

    ds = ShardSet("mvot-out/shards"); ds[17]; ds.find("maze-000003-v002")

Run with Debian's /usr/bin/python3 (python3-numpy, python3-zstandard). torch is imported
only by make_torch_dataset().
"""

import io
import json
import os
import struct
import sys

import numpy as np
import zstandard

SEEK_SKIPPABLE_MAGIC = 0x184D2A5E
SEEK_FOOTER_MAGIC = 0x8F92EAB1
INDEX_MAGIC = 0x184D2A5A
MOD_TEXT, MOD_IMAGE, MOD_SPECIAL = 0, 1, 2


class ShardError(Exception):
    pass


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
    """One seekable .tar.zst: seek table, index, and per-sample reads."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size < 17:
                raise ShardError("%s: too small" % path)
            f.seek(size - 9)
            nframes, desc, magic = struct.unpack("<IBI", f.read(9))
            if magic != SEEK_FOOTER_MAGIC or desc != 0x80:
                raise ShardError("%s: no seek table" % path)
            tsize = 8 + nframes * 12 + 9
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
            f.seek(ioff)
            ib = f.read(size - tsize - ioff)
        m, clen = struct.unpack_from("<II", ib, 0)
        if m != INDEX_MAGIC or clen != len(ib) - 8 or ib[8:12] != b"MVIX":
            raise ShardError("%s: bad index frame" % path)
        (n,) = struct.unpack_from("<I", ib, 16)
        pos = 20
        self.keys, self.frames = [], []
        for _ in range(n):
            ff, nf, kl = struct.unpack_from("<IIH", ib, pos)
            pos += 10
            self.keys.append(ib[pos : pos + kl].decode())
            self.frames.append((ff, nf))
            pos += kl
        self._dctx = zstandard.ZstdDecompressor()

    def __len__(self):
        return len(self.keys)

    def raw(self, j):
        ff, nf = self.frames[j]
        c0, c1 = int(self.coff[ff]), int(self.coff[ff + nf])
        with open(self.path, "rb") as f:
            f.seek(c0)
            comp = f.read(c1 - c0)
        out, pos = [], 0
        for k in range(ff, ff + nf):
            cs = int(self.csize[k])
            out.append(self._dctx.decompress(comp[pos : pos + cs], max_output_size=int(self.dsize[k])))
            pos += cs
        return b"".join(out)

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
        tokens = s["tokens"].astype(np.int64)
        labels = np.full(tokens.shape, -100, dtype=np.int64)
        for start, length, _mod, loss in s["spans"]:
            if loss:
                labels[start : start + length] = tokens[start : start + length]
        s["input_ids"] = tokens
        s["labels"] = labels
        return s


class ShardSet:
    """A shard directory: manifest.json plus shard-NNNNNN.tar.zst files."""

    def __init__(self, directory):
        self.dir = directory
        with open(os.path.join(directory, "manifest.json")) as f:
            self.manifest = json.load(f)
        if self.manifest.get("format") != "mvot-shards" or self.manifest.get("version") != 1:
            raise ShardError("%s: not an mvot-shards v1 directory" % directory)
        self.records = self.manifest["shards"]
        self.first = [r["first_sample"] for r in self.records]
        self.count = sum(r["samples"] for r in self.records)
        self._shards = {}
        self._keys = None

    def __len__(self):
        return self.count

    def _shard(self, k):
        if k not in self._shards:
            self._shards[k] = Shard(os.path.join(self.dir, self.records[k]["file"]))
        return self._shards[k]

    def __getitem__(self, i):
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        k = int(np.searchsorted(self.first, i, side="right")) - 1
        while i >= self.first[k] + self.records[k]["samples"]:
            k += 1
        return self._shard(k).sample(i - self.first[k])

    def find(self, key):
        if self._keys is None:
            self._keys = {}
            for k in range(len(self.records)):
                for j, name in enumerate(self._shard(k).keys):
                    self._keys[name] = self.first[k] + j
        return self[self._keys[key]]

    def __iter__(self):
        for i in range(self.count):
            yield self[i]


def open_shards(directory):
    """Iterates the samples of a shard directory as dicts with key, input_ids, labels (-100 on
    input positions), spans, meta and png (the stored source frames)."""
    return iter(ShardSet(directory))


def make_torch_dataset(directory):
    """An example map-style PyTorch Dataset over a shard directory (imports torch lazily)."""
    import torch

    class MvotDataset(torch.utils.data.Dataset):
        def __init__(self):
            self.set = ShardSet(directory)

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
    ds = ShardSet(sys.argv[1])
    if len(sys.argv) > 2:
        w = sys.argv[2]
        s = ds[int(w)] if w.isdigit() else ds.find(w)
        print(json.dumps({"key": s["key"], "input_ids": s["input_ids"].tolist(),
                          "labels": s["labels"].tolist()}, sort_keys=True))
    else:
        for s in ds:
            print(s["key"], len(s["input_ids"]))
