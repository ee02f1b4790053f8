#!/usr/bin/env python3
"""Peer for bench/eval_bench.sh: the official MVoT evaluator's approach (red-pixel thresholds
on decoded images, fixed boxes), in numpy + Pillow, over the same predictions that
eval_bench exported to PEER_DIR (lut.npy: K x 16 x 16 x 3 decoded patches; codes.npy:
N x 1024 predicted codes; boxes.npy: N x 4 target agent cell; gt/<i>.png: truth frames).

Per prediction: decode the codes (patch paste), load the truth PNG, threshold red pixels
in both, and call the visualization correct when the agent cell holds at least half of the
truth's red pixels and no more than 64 extra red pixels appear elsewhere. Prints one JSON
line with predictions/s. Single process, like the official script."""
import json
import os
import sys
import time

import numpy as np
from PIL import Image


def red(img):
    r, g, b = img[..., 0].astype(np.int16), img[..., 1].astype(np.int16), img[..., 2].astype(np.int16)
    return (r > 150) & (g < 90) & (b < 90)


def main():
    d = sys.argv[1]
    lut = np.load(os.path.join(d, "lut.npy"))
    codes = np.load(os.path.join(d, "codes.npy")).astype(np.int64)
    boxes = np.load(os.path.join(d, "boxes.npy"))
    n = codes.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    acc = red_n = 0
    for i in range(n):
        pred = lut[codes[i]].reshape(32, 32, 16, 16, 3).transpose(0, 2, 1, 3, 4).reshape(512, 512, 3)
        gt = np.asarray(Image.open(os.path.join(d, "gt", "%d.png" % i)).convert("RGB"))
        rp, rg = red(pred), red(gt)
        x0, y0, x1, y1 = (int(v) for v in boxes[i])
        in_p = int(rp[y0:y1, x0:x1].sum())
        in_g = int(rg[y0:y1, x0:x1].sum())
        out_p = int(rp.sum()) - in_p
        out_g = int(rg.sum()) - in_g
        acc += in_p * 2 >= in_g
        red_n += out_p > out_g + 64
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"peer": "official-style red-pixel (numpy+Pillow)", "predictions": n,
                      "seconds": dt, "cpu_seconds": cpu, "predictions_per_s": n / dt,
                      "predictions_per_cpu_s": n / cpu,
                      "v_acc": acc / n, "v_red": red_n / n}))


if __name__ == "__main__":
    main()
