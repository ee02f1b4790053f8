"""The one module that knows the shard reader's API (mvot_reader.py). Everything else in
mvot_data sees a shard set as a list of shards, each a list of sample positions, plus a
get(shard, position) call, so a change of the reader's API is absorbed here.

Readers that take a split and tasks (ShardSet(path, split=, tasks=)) select by the shards'
indices; with an older reader, or for sets of format version 1 (which mix splits inside every
shard and keep a sample's split and task only in its json), the selection reads each sample
once, when the set is opened.
"""

import inspect

import numpy as np

import mvot_reader

_READER_SELECTS = "split" in inspect.signature(mvot_reader.ShardSet.__init__).parameters


class Source:
    """Samples of one split (None: all) and some tasks (None: all) of a shard set."""

    def __init__(self, root, split="train", tasks=None):
        self.root = root
        self.split = split
        self.tasks = None if tasks is None else frozenset(tasks)
        if _READER_SELECTS:
            self._set = mvot_reader.ShardSet(root, split=split, tasks=tasks)
            sel = self._set.sel
        else:
            self._set = mvot_reader.ShardSet(root)
            sel = None if split is None and tasks is None else self._scan()
        self.manifest = self._set.manifest
        # positions[k]: sample numbers inside shard k that belong to the selection
        recs = self._set.records
        if sel is None:
            self.positions = [np.arange(r["samples"], dtype=np.int64) for r in recs]
        else:
            self.positions = [[] for _ in recs]
            for k, j in sel:
                self.positions[k].append(j)
            self.positions = [np.asarray(p, dtype=np.int64) for p in self.positions]

    def _scan(self):
        sel = []
        for k, rec in enumerate(self._set.records):
            shard = self._set._shard(k)
            for j in range(rec["samples"]):
                meta = shard.sample(j)["meta"]
                if (self.split is None or meta.get("split") == self.split) and (
                        self.tasks is None or meta.get("task") in self.tasks):
                    sel.append((k, j))
        return sel

    def shard_sizes(self):
        return [len(p) for p in self.positions]

    def get(self, k, i):
        """Sample i of the selection inside shard k, as the reader returns it."""
        return self._set._shard(k).sample(int(self.positions[k][i]))
