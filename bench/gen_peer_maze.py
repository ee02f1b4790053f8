#!/usr/bin/python3
"""Peer for the gen benchmark: MAZE frames the way a researcher would draw them with
maze-dataset-style matplotlib (raster imshow of the wall grid, letters, quiver path, start
marker, savefig), 512x512 PNG, for every frame of every episode in an official-layout
maze/grid{n}.json (as written by `mvot export-mvot`). Prints CPU-time frames/s as JSON."""
import glob, json, os, sys, time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
eps = []
for f in sorted(glob.glob(os.path.join(src, "maze", "grid*.json"))):
    eps += json.load(open(f))

def pixels(n, info):
    px = np.zeros((2 * n + 1, 2 * n + 1), dtype=np.uint8)
    for r in range(n):
        for c in range(n):
            px[2 * r + 1, 2 * c + 1] = 1
            if info[r * n + c] == "T":
                px[2 * r + 2, 2 * c + 1] = 1
            if info[n * n + r * n + c] == "T":
                px[2 * r + 1, 2 * c + 2] = 1
    return px

frames = 0
t0 = time.process_time()
for e in eps:
    n, info, locs = e["grid_num"], e["maze_info"], e["path_locs"]
    px = pixels(n, info)
    for k in range(len(locs)):
        fig = plt.figure(figsize=(5.12, 5.12), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.imshow(px, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        for j, (r, c) in enumerate(e["candidate_locs"]):
            ax.text(2 * c + 1, 2 * r + 1, "ABCD"[j], ha="center", va="center", fontsize=20)
        p = np.array(locs[: k + 1], dtype=float) * 2 + 1
        if k > 0:
            ax.quiver(p[:-1, 1], p[:-1, 0], np.diff(p[:, 1]), np.diff(p[:, 0]), color="red",
                      angles="xy", scale_units="xy", scale=1)
        ax.scatter([p[0, 1]], [p[0, 0]], color="red", s=60)
        ax.plot([p[-1, 1]], [p[-1, 0]], "rx")
        ax.axis("off")
        fig.savefig(os.path.join(out, "%s_%d.png" % (e["file_prefix"].replace("/", "_"), k + 1)),
                    dpi=100)
        plt.close(fig)
        frames += 1
dt = time.process_time() - t0
print(json.dumps({"peer": "matplotlib maze", "frames": frames, "cpu_s": round(dt, 3),
                  "fps": round(frames / dt, 1)}))
