"""mvot_data's datasets and generic collate on a tiny shard set (argv[1]): split selection,
int64 output, a seeded order that resumes exactly from any state, rank and DataLoader-worker
splitting that together give back the same sequence."""

import json
import sys

import numpy as np

import mvot_data
from mvot_data import MapDataset, StreamingDataset, collate

try:
    import torch
except ImportError:
    torch = None

root = sys.argv[1]
manifest = json.load(open(root + "/manifest.json"))
assert manifest["tokenizer"]["token_dtype"] == "uint16", manifest["tokenizer"]["token_dtype"]
n_train = sum(v.get("train", 0) for v in manifest["stats"]["tasks"].values())

# Map-style: the split selection and the int64 arrays whatever the storage dtype.
every = MapDataset(root, split=None)
train = MapDataset(root)
assert len(every) == manifest["totals"]["samples"] and len(train) == n_train, (len(every), len(train))
assert {every[i]["split"] for i in range(len(every))} > {"train"}
assert all(train[i]["split"] == "train" for i in range(len(train)))
assert train[0]["input_ids"].dtype == np.int64 and train[0]["labels"].dtype == np.int64
maze = MapDataset(root, split=None, tasks=["maze"])
assert len(maze) == sum(manifest["stats"]["tasks"]["maze"].values())
assert all(maze[i]["task"] == "maze" for i in range(len(maze)))
assert train[-1]["key"] == train[len(train) - 1]["key"]
all_train = sorted(train[i]["key"] for i in range(len(train)))


def keys(ds):
    return [s["key"] for s in ds]


# One epoch is a permutation of the split, the same for the same seed, another for another.
kw = dict(seed=5, shuffle_buffer=7)
seq = keys(StreamingDataset(root, **kw))
assert sorted(seq) == all_train, "an epoch is not a permutation of the split"
assert seq == keys(StreamingDataset(root, **kw))
assert seq != keys(StreamingDataset(root, seed=6, shuffle_buffer=7))
plain = keys(StreamingDataset(root, seed=5, shuffle_buffer=0, shuffle_shards=False))
assert plain == [train[i]["key"] for i in range(len(train))], "no shuffle must be shard order"
ds = StreamingDataset(root, **kw)
ds.set_epoch(1)
assert keys(ds) != seq and sorted(keys(ds)) == all_train

# Samples are read shard after shard, front to back, whatever order they come out in.
ds = StreamingDataset(root, **kw)
reads, get = [], ds.source.get
ds.source.get = lambda k, i: reads.append((k, i)) or get(k, i)
assert keys(ds) == seq
stream = [(int(k), int(i)) for k, i, _ in sorted(ds.order().tolist(), key=lambda r: r[2])]
assert reads == stream and reads != [(int(k), int(i)) for k, i, _ in ds.order()]

# Resume: a state taken after m samples gives exactly the remaining sequence, also after a
# JSON round trip, in a new object.
for m in (0, 1, 7, len(seq) - 1, len(seq)):
    a = StreamingDataset(root, **kw)
    it = iter(a)
    got = [next(it)["key"] for _ in range(m)]
    state = json.loads(json.dumps(a.state_dict()))
    b = StreamingDataset(root, **kw)
    b.load_state_dict(state)
    rest = keys(b)
    assert got + rest == seq, "resume after %d: %s" % (m, rest[:3])
try:
    StreamingDataset(root, seed=9, shuffle_buffer=7).load_state_dict(state)
    raise AssertionError("a state of another seed was accepted")
except ValueError as e:
    assert "seed" in str(e)

# Ranks: disjoint, together the split; equal_ranks cuts to the shortest.
parts = [keys(StreamingDataset(root, rank=r, world_size=3, equal_ranks=False, **kw)) for r in range(3)]
assert sorted(sum(parts, [])) == all_train
eq = [keys(StreamingDataset(root, rank=r, world_size=3, **kw)) for r in range(3)]
assert len({len(p) for p in eq}) == 1 and all(set(p) <= set(q) for p, q in zip(eq, parts))
assert len(eq[0]) == min(len(p) for p in parts)

# Generic collate: right and left padding, mask, -100 on padding, over-long policies.
s0, s1 = train[0], train[1]
short, long_ = (s0, s1) if len(s0["input_ids"]) < len(s1["input_ids"]) else (s1, s0)
n0, n1 = len(short["input_ids"]), len(long_["input_ids"])
for side in ("right", "left"):
    b = collate([short, long_], pad_id=1, padding_side=side, return_tensors="np")
    assert b["input_ids"].shape == (2, n1) and b["input_ids"].dtype == np.int64
    at = slice(0, n0) if side == "right" else slice(n1 - n0, n1)
    assert (b["input_ids"][0, at] == short["input_ids"]).all()
    assert (b["labels"][0, at] == short["labels"]).all()
    assert b["attention_mask"][0].sum() == n0 and (b["attention_mask"][0, at] == 1).all()
    pad = b["attention_mask"][0] == 0
    assert (b["labels"][0, pad] == -100).all() and (b["input_ids"][0, pad] == 1).all()
    assert b["key"] == [short["key"], long_["key"]]
try:
    collate([short, long_], max_length=n1 - 1, return_tensors="np")
    raise AssertionError("over-long sample accepted with overlong=error")
except ValueError as e:
    assert long_["key"] in str(e)
b = collate([short, long_], max_length=n1 - 1, overlong="drop", return_tensors="np")
assert b["key"] == [short["key"]] and b["input_ids"].shape == (1, n0)
b = collate([short, long_], max_length=n1 - 1, overlong="truncate", return_tensors="np")
assert b["input_ids"].shape == (2, n1 - 1) and (b["input_ids"][1] == long_["input_ids"][: n1 - 1]).all()
b = collate([short], max_length=n1, pad_to_max_length=True, return_tensors="np")
assert b["input_ids"].shape == (1, n1)
print("datasets ok: %d train samples, order, resume, ranks, collate" % len(seq))

if torch is None:
    print("torch missing: DataLoader checks not run")
    sys.exit(0)
# DataLoader workers put the batches back in sequence order, and a state from the last
# batch's positions resumes the loader exactly.
B = 3
loader_kw = dict(batch_size=B, num_workers=2, collate_fn=lambda b: collate(b, 1))
got = [k for b in torch.utils.data.DataLoader(StreamingDataset(root, batch_size=B, **kw), **loader_kw) for k in b["key"]]
assert got == seq, "DataLoader workers changed the order"
a = StreamingDataset(root, batch_size=B, **kw)
first = []
for i, b in enumerate(torch.utils.data.DataLoader(a, **loader_kw)):
    first += b["key"]
    assert b["input_ids"].dtype == torch.int64
    if i == 2:
        state = a.state_dict(position=b["position"][-1] + 1)
        break
c = StreamingDataset(root, batch_size=B, **kw)
c.load_state_dict(state)
rest = [k for b in torch.utils.data.DataLoader(c, **loader_kw) for k in b["key"]]
assert first + rest == seq, "DataLoader resume"
print("DataLoader ok: 2 workers, batch %d, resume after %d samples" % (B, len(first)))
