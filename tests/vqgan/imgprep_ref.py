#!/usr/bin/python3
"""Reference for tokenize/imgprep.c: HF ChameleonImageProcessor's steps rebuilt on Pillow
and numpy (transformers is not in Debian; these lines follow its code path: blend_rgba,
get_resize_output_image_size(default_to_square=False), PIL resize LANCZOS reducing_gap=None,
center_crop with floor offsets, rescale in float64 cast to float32, normalize mean=std=1).

Usage: imgprep_ref.py JOBS.json
  JOBS.json = [{"in": "a.png", "S": 128, "out": "prefix"}, ...]
  writes prefix.resized.npy (uint8 HxWx3 after resize), prefix.u8.npy (uint8 SxSx3 after
  crop) and prefix.f32.npy (float32 3xSxS pixel values)."""
import json
import sys

import numpy as np
from PIL import Image


def blend_rgba(img):
    if img.mode == "RGB":
        return img
    rgba = np.array(img.convert("RGBA"))
    if not (rgba[:, :, 3] < 255).any():
        return img.convert("RGB")
    alpha = rgba[:, :, 3] / 255.0
    rgb = (1 - alpha[:, :, np.newaxis]) * 255 + alpha[:, :, np.newaxis] * rgba[:, :, :3]
    return Image.fromarray(rgb.astype("uint8"), "RGB")


def main():
    jobs = json.load(open(sys.argv[1]))
    for job in jobs:
        img = Image.open(job["in"])
        img.load()
        img = blend_rgba(img)
        S = job["S"]
        w, h = img.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(S * long / short)
        nw, nh = (S, new_long) if w <= h else (new_long, S)
        r = np.array(img.resize((nw, nh), resample=Image.LANCZOS, reducing_gap=None))
        np.save(job["out"] + ".resized.npy", r)
        top, left = (nh - S) // 2, (nw - S) // 2
        c = np.ascontiguousarray(r[top:top + S, left:left + S])
        np.save(job["out"] + ".u8.npy", c)
        x = (c.astype(np.float64) * 0.0078).astype(np.float32)
        x = (x - np.array([1.0, 1.0, 1.0], dtype=np.float32)) / np.array([1.0, 1.0, 1.0],
                                                                         dtype=np.float32)
        np.save(job["out"] + ".f32.npy", np.ascontiguousarray(x.transpose(2, 0, 1)))


if __name__ == "__main__":
    main()
