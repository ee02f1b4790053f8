"""PyTorch datasets over an mvot shard set: a streaming IterableDataset with exact resume and a
map-style Dataset. torch is optional: without it both classes still iterate (plain objects).

Order of the streaming dataset (docs/training.md, "Streaming order"), a pure function of
(seed, epoch, rank, world size, shard sizes):
  1. the shards are permuted with numpy's default_rng([seed, epoch]) (unless shuffle_shards
     is off) and dealt to ranks round robin: rank r gets permuted shards r, r + W, ...;
  2. the rank's samples, shard after shard, pass through a shuffle buffer of
     `shuffle_buffer` positions driven by default_rng([seed, epoch, rank, 1]);
  3. with equal_ranks (default) every rank's sequence is cut to the shortest one, so
     distributed ranks run the same number of steps.
The buffer shuffles sample *positions*, so the whole rank sequence is known up front (samples
are still read in stream order and held until their turn): DataLoader worker w of n yields the batches w, w + n, ... of it (batch_size
must equal the DataLoader's), which the DataLoader's round robin puts back in sequence order,
and resuming is a single number, the count of samples consumed.
"""

import numpy as np

from mvot_data._source import Source

try:
    import torch
    from torch.utils.data import Dataset as _MapBase
    from torch.utils.data import IterableDataset as _IterableBase
except ImportError:  # torch is optional
    torch = None
    _MapBase = _IterableBase = object

STATE_VERSION = 1


def sample_record(s):
    """The training view of a reader sample: key, split, task, and int64 input_ids and labels
    (-100 on unsupervised positions), whatever dtype the shard stores."""
    meta = s.get("meta") or {}
    return {
        "key": s["key"],
        "split": meta.get("split"),
        "task": meta.get("task"),
        "input_ids": np.asarray(s["input_ids"], dtype=np.int64),
        "labels": np.asarray(s["labels"], dtype=np.int64),
    }


def _buffer_shuffle(items, size, rng):
    """Reservoir-style shuffle buffer over an array of rows: fill `size` rows, then each new
    row replaces (and emits) a random buffered one; the rest leaves in a random order."""
    n = len(items)
    if size <= 1 or n <= 1:
        return items
    if n <= size:
        return items[rng.permutation(n)]
    out = np.empty_like(items)
    buf = items[:size].copy()
    picks = rng.integers(0, size, size=n - size)
    for t in range(n - size):
        j = picks[t]
        out[t] = buf[j]
        buf[j] = items[size + t]
    out[n - size :] = buf[rng.permutation(size)]
    return out


def _dist_rank_world():
    if torch is not None and torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class StreamingDataset(_IterableBase):
    """Streams one split of a shard set in a seeded, resumable order (see the module doc).

    Each item is sample_record() plus "position" (its place in this rank's sequence), passed
    through `transform` when given. state_dict() after consuming an item resumes right after
    it; with DataLoader workers pass position=batch["position"][-1] + 1 of the last batch the
    training step used, since the counter of the main process's copy does not move."""

    def __init__(self, root, split="train", tasks=None, *, seed=0, shuffle_buffer=1024,
                 shuffle_shards=True, batch_size=1, rank=None, world_size=None,
                 equal_ranks=True, transform=None):
        super().__init__()
        if batch_size < 1 or shuffle_buffer < 0:
            raise ValueError("batch_size must be >= 1 and shuffle_buffer >= 0")
        self.source = Source(root, split, tasks)
        self.seed = int(seed)
        self.shuffle_buffer = int(shuffle_buffer)
        self.shuffle_shards = bool(shuffle_shards)
        self.batch_size = int(batch_size)
        self.equal_ranks = bool(equal_ranks)
        self.transform = transform
        if rank is None and world_size is None:
            rank, world_size = _dist_rank_world()
        self.rank, self.world_size = int(rank or 0), int(world_size or 1)
        if not 0 <= self.rank < self.world_size:
            raise ValueError("rank %d outside world size %d" % (self.rank, self.world_size))
        self.epoch = 0
        self._start = 0  # samples of this epoch consumed before the current iteration
        self._position = 0  # samples handed out in this process (num_workers=0)

    def set_epoch(self, epoch):
        """Starts epoch `epoch` from its beginning (call before each epoch, like
        DistributedSampler.set_epoch)."""
        self.epoch = int(epoch)
        self._start = self._position = 0

    def _shard_order(self):
        n = len(self.source.shard_sizes())
        if not self.shuffle_shards:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def order(self):
        """This rank's sequence for the current epoch: an (n, 3) array of (shard, sample,
        reading position), the last being the row's place in the rank's unshuffled stream."""
        sizes = self.source.shard_sizes()
        dealt = self._shard_order()
        mine = dealt[self.rank :: self.world_size]
        parts = [np.stack([np.full(sizes[k], k), np.arange(sizes[k])], axis=1) for k in mine]
        items = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
        if self.equal_ranks and self.world_size > 1:
            items = items[: min(sum(sizes[k] for k in dealt[r :: self.world_size])
                                for r in range(self.world_size))]
        items = np.concatenate([items, np.arange(len(items))[:, None]], axis=1)
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, 1])
        return _buffer_shuffle(items, self.shuffle_buffer, rng)

    def __len__(self):
        return len(self.order())

    def __iter__(self):
        info = torch.utils.data.get_worker_info() if torch is not None else None
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        order = self.order()
        start = self._start
        mine = [p for p in range(start, len(order))
                if ((p - start) // self.batch_size) % workers == worker]
        # Samples are read in stream order (shard after shard) and held until their turn, so
        # each shard is read front to back (a zstd frame shared by an episode's samples is
        # decompressed once) while they come out shuffled; at most about shuffle_buffer /
        # workers samples wait at a time.
        need = np.zeros(len(order), dtype=bool)
        need[order[mine, 2]] = True
        stream = order[np.argsort(order[:, 2])] if len(order) else order
        held, cursor = {}, 0
        for p in mine:
            q = int(order[p, 2])
            while cursor <= q:
                if need[cursor]:
                    k, i, _ = stream[cursor]
                    held[cursor] = self.source.get(int(k), int(i))
                cursor += 1
            rec = sample_record(held.pop(q))
            rec["position"] = p
            if info is None:
                self._position = p + 1
            yield self.transform(rec) if self.transform else rec

    def state_dict(self, position=None):
        """Where to resume: the epoch and the samples of it consumed (`position`, default the
        count this process has handed out), with the settings that fix the order."""
        return {
            "version": STATE_VERSION,
            "epoch": self.epoch,
            "position": int(self._position if position is None else position),
            "seed": self.seed,
            "shuffle_buffer": self.shuffle_buffer,
            "shuffle_shards": self.shuffle_shards,
            "rank": self.rank,
            "world_size": self.world_size,
            "equal_ranks": self.equal_ranks,
            "shard_sizes": self.source.shard_sizes(),
        }

    def load_state_dict(self, state):
        """Makes the next iteration continue exactly after the consumed samples. The settings
        that fix the order must match, or the remaining sequence would differ: ValueError."""
        if state.get("version") != STATE_VERSION:
            raise ValueError("state version %r, want %d" % (state.get("version"), STATE_VERSION))
        mine = self.state_dict()
        for k in ("seed", "shuffle_buffer", "shuffle_shards", "rank", "world_size",
                  "equal_ranks", "shard_sizes"):
            if state[k] != mine[k]:
                raise ValueError("state %s is %r, this dataset has %r" % (k, state[k], mine[k]))
        self.epoch = int(state["epoch"])
        self._start = self._position = int(state["position"])


class MapDataset(_MapBase):
    """Random access to one split (None: all) of a shard set: ds[i] is sample_record() of the
    i-th selected sample in shard order, through `transform` when given."""

    def __init__(self, root, split="train", tasks=None, transform=None):
        super().__init__()
        self.source = Source(root, split, tasks)
        self.transform = transform
        self._first = np.concatenate([[0], np.cumsum(self.source.shard_sizes())]).astype(np.int64)

    def __len__(self):
        return int(self._first[-1])

    def __getitem__(self, i):
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        k = int(np.searchsorted(self._first, i, side="right")) - 1
        rec = sample_record(self.source.get(k, i - int(self._first[k])))
        return self.transform(rec) if self.transform else rec
