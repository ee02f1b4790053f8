"""Batching samples for training: padding, attention_mask, labels with -100 on padding.

Two layouts:
- generic (preset=None): every row padded to the longest sample of the batch (or to
  max_length with pad_to_max_length), on `padding_side`;
- preset="mvot": the official MVoT trainer's layout. Its tokenizing dataset encodes the input
  part (<s> ... <sep>) left-padded to 2600 tokens and the label part (<s> ... <sep>, right-
  padded to 1300, then the <s> dropped) after it: every row is 2600 + 1299 tokens, labels are
  -100 over the whole input block and over padding, attention_mask is 0 on padding.

Over-long samples (longer than max_length, or an input part over 2600 / a label part over 1299
tokens with preset="mvot"): overlong="error" (default) raises ValueError naming the key;
"drop" leaves them out of the batch (a batch can come out smaller, or empty);
"truncate" (generic layout only) keeps the first max_length tokens. The official code has no
such policy: its padding never truncates, so an over-long row breaks its batch stacking.
"""

import numpy as np

MVOT_SOURCE_LENGTH = 2600
MVOT_TARGET_LENGTH = 1300
# The label block loses the <s> its tokenizer call added: 1299 positions.
MVOT_LABEL_BLOCK = MVOT_TARGET_LENGTH - 1

OVERLONG_POLICIES = ("error", "drop", "truncate")


def input_length(labels):
    """Tokens before the first supervised one: the prompt part of an mvot sample."""
    sup = np.flatnonzero(np.asarray(labels) != -100)
    return int(sup[0]) if len(sup) else len(labels)


def mvot_overlong(sample):
    """(input part over 2600, label part over 1299) for one sample."""
    n_in = input_length(sample["labels"])
    n_lab = len(sample["input_ids"]) - n_in
    return n_in > MVOT_SOURCE_LENGTH, n_lab > MVOT_LABEL_BLOCK


def count_mvot_overlong(samples):
    """How many samples exceed the official trainer's lengths: {"source", "target", "any"}."""
    c = {"source": 0, "target": 0, "any": 0}
    for s in samples:
        src, tgt = mvot_overlong(s)
        c["source"] += src
        c["target"] += tgt
        c["any"] += src or tgt
    return c


def _mvot_row(s, pad_id):
    ids = np.asarray(s["input_ids"], dtype=np.int64)
    n_in = input_length(s["labels"])
    lab = ids[n_in:]
    row = np.full(MVOT_SOURCE_LENGTH + MVOT_LABEL_BLOCK, pad_id, dtype=np.int64)
    mask = np.zeros(row.shape, dtype=np.int64)
    labels = np.full(row.shape, -100, dtype=np.int64)
    row[MVOT_SOURCE_LENGTH - n_in : MVOT_SOURCE_LENGTH] = ids[:n_in]
    mask[MVOT_SOURCE_LENGTH - n_in : MVOT_SOURCE_LENGTH] = 1
    end = MVOT_SOURCE_LENGTH + len(lab)
    row[MVOT_SOURCE_LENGTH:end] = lab
    mask[MVOT_SOURCE_LENGTH:end] = 1
    labels[MVOT_SOURCE_LENGTH:end] = lab
    # The official code masks every label equal to the pad id, not only the padding.
    labels[labels == pad_id] = -100
    return row, mask, labels


def collate(batch, pad_id=1, *, preset=None, max_length=None, pad_to_max_length=False,
            padding_side="right", overlong="error", return_tensors="pt"):
    """Stacks samples (dicts with int input_ids and labels, as the datasets yield) into
    {"input_ids", "attention_mask", "labels", "key" (of the rows), and "position" (of every
    sample given, dropped ones included) when the samples carry it}. pad_id: the tokenizer's pad id (the manifest's tokenizer.special.pad; 1 in the
    Chameleon vocabulary). return_tensors="pt" gives int64 torch tensors, "np" numpy arrays."""
    if overlong not in OVERLONG_POLICIES:
        raise ValueError("overlong must be one of %s" % (OVERLONG_POLICIES,))
    if preset not in (None, "mvot"):
        raise ValueError("unknown preset %r" % (preset,))
    if preset == "mvot" and overlong == "truncate":
        raise ValueError("preset mvot: truncating would cut image runs; use error or drop")
    if padding_side not in ("left", "right"):
        raise ValueError("padding_side must be left or right")
    kept = []
    for s in batch:
        n = len(s["input_ids"])
        if preset == "mvot":
            src, tgt = mvot_overlong(s)
            over = src or tgt
            what = "input part %d > %d or label part %d > %d tokens" % (
                input_length(s["labels"]), MVOT_SOURCE_LENGTH, n - input_length(s["labels"]),
                MVOT_LABEL_BLOCK)
        else:
            over = max_length is not None and n > max_length
            what = "%d tokens > max_length %s" % (n, max_length)
        if over and overlong == "error":
            raise ValueError("sample %s: %s (overlong=error)" % (s.get("key"), what))
        if over and overlong == "drop":
            continue
        kept.append(s)
    if preset == "mvot":
        rows = [_mvot_row(s, pad_id) for s in kept]
    else:
        width = max([len(s["input_ids"]) for s in kept], default=0)
        if max_length is not None and (pad_to_max_length or width > max_length):
            width = max_length
        rows = []
        for s in kept:
            ids = np.asarray(s["input_ids"], dtype=np.int64)[:width]
            lab = np.asarray(s["labels"], dtype=np.int64)[:width]
            row = np.full(width, pad_id, dtype=np.int64)
            mask = np.zeros(width, dtype=np.int64)
            labels = np.full(width, -100, dtype=np.int64)
            at = slice(0, len(ids)) if padding_side == "right" else slice(width - len(ids), width)
            row[at], mask[at], labels[at] = ids, 1, lab
            rows.append((row, mask, labels))
    width = len(rows[0][0]) if rows else 0
    out = {
        "input_ids": np.stack([r[0] for r in rows]) if rows else np.zeros((0, width), np.int64),
        "attention_mask": np.stack([r[1] for r in rows]) if rows else np.zeros((0, width), np.int64),
        "labels": np.stack([r[2] for r in rows]) if rows else np.zeros((0, width), np.int64),
    }
    if return_tensors == "pt":
        import torch

        out = {k: torch.from_numpy(v) for k, v in out.items()}
    elif return_tensors != "np":
        raise ValueError("return_tensors must be pt or np")
    out["key"] = [s.get("key") for s in kept]
    # every sample of the batch was consumed, dropped or not: resume after the last of them
    if batch and "position" in batch[0]:
        out["position"] = [s["position"] for s in batch]
    return out


def make_collate(pad_id=1, **options):
    """collate with fixed options, for DataLoader(collate_fn=...)."""

    def fn(batch):
        return collate(batch, pad_id, **options)

    return fn
