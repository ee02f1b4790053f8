#!/usr/bin/python3
"""k-means peer for `mvot codebook train`: scipy.cluster.vq.kmeans2 (the obvious choice with
numpy/scipy; random-points init by default, see --minit) on every 16x16x3 patch of the same frames, no dedup. Prints
one JSON object with wall/CPU seconds and the reconstruction PSNR of the frames with the
resulting codebook (nearest code by scipy.cluster.vq.vq). Usage:
  patchvq_kmeans_peer.py --episodes ARCHIVE --k K --iters N [--frames F] [--seed S]"""
import argparse, io, json, tarfile, time

import numpy as np
import zstandard
from PIL import Image
from scipy.cluster.vq import kmeans2, vq


def frames(path, n):
    out = []
    with open(path, "rb") as f:
        r = zstandard.ZstdDecompressor().stream_reader(f)
        with tarfile.open(fileobj=r, mode="r|") as tf:
            for m in tf:
                if m.name.endswith(".png"):
                    out.append(np.asarray(Image.open(io.BytesIO(tf.extractfile(m).read())).convert("RGB")))
                    if n and len(out) == n:
                        break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--frames", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minit", default="points",
                    help="kmeans2 init: 'points' (random points, default) or '++' (scipy's "
                         "k-means++, which recomputes cdist against all chosen centers per "
                         "center: O(K^2 N D), far too slow beyond a few thousand patches)")
    a = ap.parse_args()
    fr = frames(a.episodes, a.frames)
    g = fr[0].shape[0] // 16
    x = np.concatenate([im.reshape(g, 16, g, 16, 3).transpose(0, 2, 1, 3, 4).reshape(g * g, 768)
                        for im in fr]).astype(np.float64)
    t, c = time.perf_counter(), time.process_time()
    cb, _ = kmeans2(x, a.k, iter=a.iters, minit=a.minit, seed=a.seed)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    cbu = np.clip(np.rint(cb), 0, 255)
    code, dist = vq(x, cbu)
    mse = float((dist ** 2).sum() / x.size)
    print(json.dumps({"peer": "scipy.cluster.vq.kmeans2", "frames": len(fr), "patches": int(x.shape[0]),
                      "k": a.k, "iters": a.iters, "minit": a.minit, "wall_s": wall, "cpu_s": cpu,
                      "psnr_db": 10 * np.log10(255 ** 2 / mse) if mse > 0 else None}, sort_keys=True))


main()
