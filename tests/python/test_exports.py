"""`mvot export` outputs against `mvot cat --json` (argv: export root holding megatron/, jsonl/,
prompts/ and tar/; the cat lines file; the shard set; the Megatron reference folder or "";
a scratch dir). Megatron-Core's IndexedDataset runs unchanged from the reference folder,
with stub modules for its imports that have nothing to do with reading local files."""

import io
import json
import os
import subprocess
import sys
import tarfile

import numpy as np

root, catf, shards, megatron_ref, scratch = sys.argv[1:6]
cat = [json.loads(l) for l in open(catf)]
splits = {}
for c in cat:
    splits.setdefault(c["meta"]["split"], []).append(c)
assert len(splits) >= 2, "the tiny set should hold two splits"


def prompt(c):
    sup = [i for i, v in enumerate(c["labels"]) if v != -100]
    return c["input_ids"][: sup[0] if sup else len(c["input_ids"])]


# jsonl and --prompts
for split, want in splits.items():
    lines = [json.loads(l) for l in open(os.path.join(root, "jsonl", split + ".jsonl"))]
    assert len(lines) == len(want), (split, len(lines), len(want))
    for g, c in zip(lines, want):
        assert list(g) == ["key", "split", "task", "input_ids", "labels"], list(g)
        assert g["key"] == c["key"] and g["split"] == split and g["task"] == c["meta"]["task"]
        assert g["input_ids"] == c["input_ids"] and g["labels"] == c["labels"], g["key"]
test = [json.loads(l) for l in open(os.path.join(root, "prompts", "test-prompts.jsonl"))]
assert [list(g) for g in test] == [["key", "input_ids"]] * len(splits["test"])
for g, c in zip(test, splits["test"]):
    assert g["key"] == c["key"] and g["input_ids"] == prompt(c) and len(g["input_ids"]) < len(c["input_ids"])
print("jsonl ok:", {k: len(v) for k, v in splits.items()})

# tar: the members of every sample equal those of the zstd shards, read by tarfile alone
want_members = {}
for dirpath, _, files in os.walk(shards):
    for f in sorted(files):
        if f.endswith(".tar.zst"):
            raw = subprocess.run(["zstd", "-dcq", os.path.join(dirpath, f)], check=True,
                                 stdout=subprocess.PIPE).stdout
            with tarfile.open(fileobj=io.BytesIO(raw)) as t:
                for m in t.getmembers():
                    want_members[m.name] = t.extractfile(m).read()
for split, want in splits.items():
    names = sorted(f for f in os.listdir(os.path.join(root, "tar")) if f.startswith(split + "-"))
    assert names and all(f.endswith(".tar") for f in names), names
    keys = []
    for f in names:
        with tarfile.open(os.path.join(root, "tar", f)) as t:
            for m in t.getmembers():
                assert t.extractfile(m).read() == want_members[m.name], m.name
                k = m.name.split(".", 1)[0]
                if not keys or keys[-1] != k:
                    keys.append(k)
    assert keys == [c["key"] for c in want], split
    n_members = sum(1 for k in want_members if k.split(".", 1)[0] in set(keys))
    assert n_members >= 3 * len(keys)
print("tar ok: members equal the shards'")

# megatron: Megatron-Core's reader, unchanged
if not megatron_ref:
    print("megatron reader: reference folder absent")
    sys.exit(77)
stubs = os.path.join(scratch, "megatron-stubs")
os.makedirs(os.path.join(stubs, "megatron", "core", "datasets"), exist_ok=True)
stub_files = {
    "megatron/core/datasets/object_storage_utils.py":
        "S3Config = ObjectStorageConfig = object\n"
        "def is_object_storage_path(path):\n    return False\n"
        "def _unused(*a, **k):\n    raise NotImplementedError\n"
        "cache_index_file = dataset_exists = get_index_cache_path = _unused\n"
        "get_object_storage_access = parse_s3_path = _unused\n",
    "megatron/core/msc_utils.py":
        "class MultiStorageClientFeature:\n    @staticmethod\n    def is_enabled():\n        return False\n"
        # without the multi-storage client, Megatron opens local files with the builtin open
        "class _Local:\n    open = staticmethod(open)\nmaybe_msc = _Local()\n",
    "megatron/core/utils.py": "def log_single_rank(logger, level, msg):\n    pass\n",
}
for name, text in stub_files.items():
    with open(os.path.join(stubs, name), "w") as f:
        f.write(text)
sys.path[:0] = [megatron_ref, stubs]
from megatron.core.datasets.indexed_dataset import IndexedDataset  # noqa: E402

for split, want in splits.items():
    toks = IndexedDataset(os.path.join(root, "megatron", split))
    labs = IndexedDataset(os.path.join(root, "megatron", split + "_labels"))
    assert len(toks) == len(want) == len(labs), (split, len(toks), len(want))
    assert toks.index.dtype == np.int32 and labs.index.dtype == np.int32
    assert toks.sequence_lengths.tolist() == [len(c["input_ids"]) for c in want]
    for i, c in enumerate(want):
        assert toks[i].tolist() == c["input_ids"], (split, i)
        assert labs[i].tolist() == c["labels"], (split, i)
    assert toks.get(len(want) - 1, offset=2, length=3).tolist() == want[-1]["input_ids"][2:5]
    assert [s.tolist() for s in toks[0:2]] == [c["input_ids"] for c in want[:2]]
print("megatron ok: Megatron-Core's IndexedDataset reads every token and label of", list(splits))
