"""collate(preset="mvot") against the official MVoT trainer's tokenizing dataset and data
collator, run unchanged. argv: shard set root, the official repository folder, a scratch dir.

The official code needs a Chameleon processor, the model's VQ encoder and a few packages
(datasets, torchvision, evaluate, transformers) that only feed code paths this test does not reach; the
stubs below stand in for them. The stand-in processor returns, for a text, the ids our shards
hold for it (image codes replaced by the image placeholder id) and pads like HF (padding
"max_length" without truncation, on the tokenizer's padding_side); the stand-in VQ model turns
each tiny image (whose pixels carry its number) back into the codes stored in the shard and
decodes codes back to that image, so the official augmentation round trips are exact. What is
compared is the official layout: block lengths, padding sides, <s> removal, attention_mask and
-100 labels, row for row with our collate."""

import copy
import os
import random
import sys
import types

import numpy as np
import torch
from PIL import Image

import mvot_data

root, official, scratch = sys.argv[1:4]

# Stub modules for the official files' unrelated imports.
stubs = os.path.join(scratch, "stubs")
os.makedirs(os.path.join(stubs, "torchvision", "transforms"), exist_ok=True)
os.makedirs(os.path.join(stubs, "datasets"), exist_ok=True)
files = {
    "torchvision/__init__.py": "from torchvision import transforms\n",
    "torchvision/transforms/__init__.py": "Compose = Resize = CenterCrop = ToTensor = Normalize = object\n",
    "torchvision/transforms/functional.py": "def pil_to_tensor(img):\n    raise NotImplementedError\n",
    "datasets/__init__.py": "from datasets import builder\nload_dataset = concatenate_datasets = None\n",
    "datasets/builder.py": "has_sufficient_disk_space = None\n",
    "evaluate.py": "def load(*a, **k):\n    raise NotImplementedError\n",
    "transformers.py": "def default_data_collator(*a, **k):\n    raise NotImplementedError\n",
}
for name, text in files.items():
    with open(os.path.join(stubs, name), "w") as f:
        f.write(text)
sys.path[:0] = [official, stubs]
from utils.data_collator import customize_data_collator  # noqa: E402
from utils.interleaved_tokenized_dataset import InterleaveAnoleTokenizedDataset  # noqa: E402
from utils.load_data import tokenize_dataset  # noqa: E402

manifest_special = mvot_data.ShardSet(root).manifest["tokenizer"]["special"]
BOS, PAD, IMAGE = manifest_special["bos"], manifest_special["pad"], manifest_special["image"]

texts = {}  # text -> ids with IMAGE for every image code
codes = []  # image number -> its codes


def image_of(codes_of_image):
    g = len(codes)
    codes.append(np.asarray(codes_of_image, dtype=np.int64))
    px = np.zeros((2, 2, 3), dtype=np.uint8)
    px[..., 0], px[..., 1] = g % 256, g // 256
    return Image.fromarray(px)


def number_of(pixels):
    return int(pixels[0, 0, 0]) + 256 * int(pixels[1, 0, 0])


class Tokenizer:
    padding_side = "left"
    pad_token_id = PAD


class Processor:
    def __init__(self):
        self.tokenizer = Tokenizer()

    def __call__(self, text=None, images=None, padding=None, return_tensors=None, max_length=None):
        text = text[0] if isinstance(text, list) else text
        ids = texts.get(text, [BOS, IMAGE])
        mask = [1] * len(ids)
        if padding == "max_length" and len(ids) < max_length:
            pad = max_length - len(ids)
            left = self.tokenizer.padding_side == "left"
            ids = [PAD] * pad + ids if left else ids + [PAD] * pad
            mask = [0] * pad + mask if left else mask + [0] * pad
        out = {"input_ids": torch.tensor([ids]), "attention_mask": torch.tensor([mask])}
        if images:
            images = images if isinstance(images, list) else [images]
            arr = np.stack([np.asarray(im).transpose(2, 0, 1) for im in images])
            out["pixel_values"] = torch.from_numpy(arr.astype(np.float32))
        return out

    def postprocess_pixel_values(self, pixels):
        return pixels.round().to(torch.uint8)


class VQ:
    def get_image_tokens(self, pixels):
        return torch.from_numpy(np.stack([codes[number_of(p.float())] for p in pixels]))

    def decode_image_tokens(self, tokens):
        out = []
        for t in tokens.numpy():
            g = next(i for i, c in enumerate(codes) if np.array_equal(c, t))
            out.append(np.stack([np.full((2, 2), g % 256), np.full((2, 2), g // 256), np.zeros((2, 2))]))
        return torch.from_numpy(np.stack(out).astype(np.float32))


model = types.SimpleNamespace(
    config=types.SimpleNamespace(image_token_id=IMAGE), device="cpu",
    model=types.SimpleNamespace(model=VQ(), decode_image_tokens=VQ().decode_image_tokens))

# The official train items, built from our samples: texts as the json stores them, images
# as numbered stand-ins carrying the stored codes.
samples = [s for s in mvot_data.open_shards(root) if s["meta"]["split"] == "train"]
items = []
for s in samples:
    ids = s["input_ids"].tolist()
    n_in = mvot_data.input_length(s["labels"])
    shown, imgs_in, imgs_lab = list(ids), [], []
    for start, length, modality, _loss in s["spans"]:
        if modality == 1:
            (imgs_in if start < n_in else imgs_lab).append(image_of(ids[start : start + length]))
            shown[start : start + length] = [None] * length
    # one IMAGE id per code, as the processor expands <image> to image_seq_length placeholders
    shown = [IMAGE if t is None else t for t in shown]
    texts[s["meta"]["input_text"]] = shown[:n_in]
    texts[s["meta"]["label_text"]] = [BOS] + shown[n_in:]
    items.append({"input_text": s["meta"]["input_text"], "input_imgs": imgs_in,
                  "label_text": s["meta"]["label_text"], "label_imgs": imgs_lab})

random.seed(0)
data, src_len, tgt_len = tokenize_dataset(items, None, None, model, Processor(), data_name="x",
                                          interleave=True, input_format="anole")
assert (src_len, tgt_len) == (mvot_data.MVOT_SOURCE_LENGTH, mvot_data.MVOT_TARGET_LENGTH)
official_ds = data["train"]
assert isinstance(official_ds, InterleaveAnoleTokenizedDataset)
batch_size = 4
rows = 0
for b0 in range(0, len(samples), batch_size):
    want = customize_data_collator([official_ds[i] for i in range(b0, min(b0 + batch_size, len(samples)))])
    got = mvot_data.collate([mvot_data.sample_record(s) for s in samples[b0 : b0 + batch_size]],
                            PAD, preset="mvot")
    for k in ("input_ids", "attention_mask", "labels"):
        assert want[k].shape == got[k].shape, (k, want[k].shape, got[k].shape)
        assert torch.equal(want[k].long(), got[k]), "batch at %d: %s differs" % (b0, k)
    rows += len(got["key"])
assert rows == len(samples) and rows > 10
assert got["input_ids"].shape[1] == 2600 + 1299
print("official layout ok: %d samples, rows of %d tokens equal the official trainer's"
      % (rows, got["input_ids"].shape[1]))
