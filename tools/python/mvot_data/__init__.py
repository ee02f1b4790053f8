"""mvot_data: training-side Python for mvot shard sets (numpy + zstandard; torch optional).

    from mvot_data import StreamingDataset, MapDataset, collate, make_collate
    ds = StreamingDataset("mvot-out/shards", split="train", seed=0, batch_size=8)
    loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2,
                                         collate_fn=make_collate(preset="mvot"))

The low-level reader (mvot_reader: ShardSet, open_shards) is re-exported. docs/training.md
explains the order, resuming and the layouts.
"""

from mvot_reader import Shard, ShardError, ShardSet, open_shards

from mvot_data.collate import (
    MVOT_LABEL_BLOCK,
    MVOT_SOURCE_LENGTH,
    MVOT_TARGET_LENGTH,
    collate,
    count_mvot_overlong,
    input_length,
    make_collate,
)
from mvot_data.datasets import MapDataset, StreamingDataset, sample_record

__all__ = [
    "Shard", "ShardError", "ShardSet", "open_shards",
    "MVOT_LABEL_BLOCK", "MVOT_SOURCE_LENGTH", "MVOT_TARGET_LENGTH",
    "collate", "count_mvot_overlong", "input_length", "make_collate",
    "MapDataset", "StreamingDataset", "sample_record",
]
