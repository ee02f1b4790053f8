"""The one module that knows the shard reader's API (mvot_reader.py). Everything else in
mvot_data sees a shard set as a list of shards, each a list of sample positions, plus a
get(shard, position) call, so a change of the reader's API is absorbed here.

Shard sets of format version 1 mix splits inside every shard and keep a sample's split and
task only in its json: selecting by them means reading each sample once, which this module
does when the set is opened with a split or tasks and caches for the life of the object.
"""

import numpy as np

import mvot_reader


class Source:
    """Samples of one split (None: all) and some tasks (None: all) of a shard set."""

    def __init__(self, root, split="train", tasks=None):
        self.root = root
        self.split = split
        self.tasks = None if tasks is None else frozenset(tasks)
        self._set = mvot_reader.ShardSet(root)
        self.manifest = self._set.manifest
        # positions[k]: sample numbers inside shard k that belong to the selection
        self.positions = []
        for k, rec in enumerate(self._set.records):
            n = rec["samples"]
            if self.split is None and self.tasks is None:
                self.positions.append(np.arange(n, dtype=np.int64))
                continue
            shard = self._set._shard(k)
            keep = [j for j in range(n) if self._selected(shard.sample(j)["meta"])]
            self.positions.append(np.asarray(keep, dtype=np.int64))

    def _selected(self, meta):
        if self.split is not None and meta.get("split") != self.split:
            return False
        return self.tasks is None or meta.get("task") in self.tasks

    def shard_sizes(self):
        return [len(p) for p in self.positions]

    def get(self, k, i):
        """Sample i of the selection inside shard k, as the reader returns it."""
        return self._set._shard(k).sample(int(self.positions[k][i]))

    def pad_id(self):
        return int(self.manifest["tokenizer"]["special"]["pad"])
