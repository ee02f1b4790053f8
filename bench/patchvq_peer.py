#!/usr/bin/python3
"""Peer for bench/patchvq_bench.c: what a user would write with numpy/scipy to patch-encode
frames with the same codebook. Three variants, timed side by side on the same frames:
  numpy_gemm    float32 |c|^2 - 2 x.c^T with np.argmin per frame (numpy's BLAS GEMM)
  numpy_unique  np.unique over all patches of the batch first, then the GEMM on the distinct
                ones (the obvious user-side cache)
  scipy_vq      scipy.cluster.vq.vq (brute force, float64)
Codes are compared with mvot's (--codes, int64 [M, grid^2] from patchvq_bench --codes-out).
Prints one JSON object. Usage:
  patchvq_peer.py --codebook CB.safetensors --episodes ARCHIVE --codes CODES.npy
                  [--frames N] [--unique-frames U] [--scipy-frames M] [--only VARIANT]
--only runs one variant (bench/run-all.sh times numpy_unique against the cached mvot encode).
Each variant reports "seconds", the wall time of its encode (frame loading not included).
Give it the codebook the bench wrote with --codebook-out (the padded one)."""
import argparse, io, json, struct, tarfile, time

import numpy as np
import zstandard
from PIL import Image
from scipy.cluster.vq import vq


def load_codebook(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    t = h["codebook"]
    a, b = t["data_offsets"]
    return np.frombuffer(raw[8 + n + a:8 + n + b], np.uint8).reshape(t["shape"])


def frames(path, n):
    out = []
    with open(path, "rb") as f:
        r = zstandard.ZstdDecompressor().stream_reader(f)
        with tarfile.open(fileobj=r, mode="r|") as tf:
            for m in tf:
                if m.name.endswith(".png"):
                    out.append(np.asarray(Image.open(io.BytesIO(tf.extractfile(m).read())).convert("RGB")))
                    if len(out) == n:
                        break
    return out


def patches(img, p=16):
    S = img.shape[0]
    g = S // p
    return img.reshape(g, p, g, p, 3).transpose(0, 2, 1, 3, 4).reshape(g * g, p * p * 3)


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    r = fn()
    return r, time.perf_counter() - t, time.process_time() - c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--codebook", required=True)
    ap.add_argument("--episodes", required=True)
    ap.add_argument("--codes", required=True)
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--unique-frames", type=int, default=300)
    ap.add_argument("--scipy-frames", type=int, default=1)
    ap.add_argument("--only", choices=("numpy_gemm", "numpy_unique", "scipy_vq"))
    a = ap.parse_args()
    cb = load_codebook(a.codebook)
    ref = np.load(a.codes)
    want = {"numpy_gemm": a.frames, "numpy_unique": a.unique_frames, "scipy_vq": a.scipy_frames}
    if a.only:
        want = {a.only: want[a.only]}
    fr = frames(a.episodes, max(want.values()))
    cbf = cb.astype(np.float32)
    c2 = (cbf * cbf).sum(1)
    res = {"K": int(cb.shape[0])}

    def gemm(imgs):
        return [np.argmin(c2[None, :] - 2.0 * (patches(im).astype(np.float32) @ cbf.T), axis=1) for im in imgs]

    if "numpy_gemm" in want:
        codes, wall, cpu = timed(lambda: gemm(fr[:a.frames]))
        agree = np.mean([np.mean(c == ref[i]) for i, c in enumerate(codes) if i < len(ref)])
        res["numpy_gemm"] = {"frames": a.frames, "seconds": wall, "fps": a.frames / wall,
                             "fps_per_cpu_s": a.frames / cpu, "agreement_with_mvot": float(agree)}

    def uniq(imgs):
        allp = np.concatenate([patches(im) for im in imgs])
        u, inv = np.unique(allp, axis=0, return_inverse=True)
        cu = np.argmin(c2[None, :] - 2.0 * (u.astype(np.float32) @ cbf.T), axis=1)
        return cu[inv.reshape(-1)].reshape(len(imgs), -1)

    if "numpy_unique" in want:
        codes, wall, cpu = timed(lambda: uniq(fr[:a.unique_frames]))
        m = min(len(ref), a.unique_frames)
        res["numpy_unique"] = {"frames": a.unique_frames, "seconds": wall,
                               "fps": a.unique_frames / wall,
                               "fps_per_cpu_s": a.unique_frames / cpu,
                               "agreement_with_mvot": float(np.mean(codes[:m] == ref[:m]))}

    def sp(imgs):
        return [vq(patches(im).astype(np.float64), cb.astype(np.float64))[0] for im in imgs]

    if "scipy_vq" in want:
        codes, wall, cpu = timed(lambda: sp(fr[:a.scipy_frames]))
        res["scipy_vq"] = {"frames": a.scipy_frames, "seconds": wall,
                           "fps": a.scipy_frames / wall, "fps_per_cpu_s": a.scipy_frames / cpu,
                           "agreement_with_mvot": float(np.mean([np.mean(c == ref[i])
                                                                 for i, c in enumerate(codes)]))}
    print(json.dumps(res, sort_keys=True))


main()
