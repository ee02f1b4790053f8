#!/usr/bin/python3
"""Peer for the gen benchmark: FROZENLAKE frames the way Gymnasium's rgb_array render plus PIL
would make them: per-cell sprites scaled to the cell once per map, composed into a numpy
canvas with alpha blending per frame, saved with PIL (default PNG settings). Sprites are drawn
here with PIL.ImageDraw (no copied art). Input: official-layout frozenlake/level{n}/data.json
(from `mvot export-mvot`). Prints CPU-time frames/s as JSON."""
import glob, json, os, sys, time

import numpy as np
from PIL import Image, ImageDraw

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
S = 512

def sprite(kind, c):
    im = Image.new("RGBA", (c, c), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    if kind == "ice":
        d.rectangle([0, 0, c - 1, c - 1], fill=(236, 245, 250, 255), outline=(180, 200, 230, 255))
    elif kind in ("hole", "cracked"):
        d.ellipse([c * .08, c * .12, c * .92, c * .88], fill=(30, 119, 191, 255))
        d.ellipse([c * .13, c * .17, c * .87, c * .83],
                  fill=(25, 70, 130, 255) if kind == "cracked" else (70, 160, 225, 255))
    elif kind == "gift":
        d.rectangle([c * .24, c * .42, c * .76, c * .8], fill=(70, 82, 128, 255))
        d.rectangle([c * .45, c * .34, c * .55, c * .8], fill=(236, 146, 40, 255))
    elif kind == "stool":
        d.rectangle([c * .4, c * .44, c * .6, c * .54], fill=(128, 74, 56, 255))
    else:  # elf facing kind[-1]
        d.rectangle([c * .36, c * .5, c * .64, c * .71], fill=(200, 50, 50, 255))
        d.rectangle([c * .38, c * .32, c * .62, c * .51], fill=(242, 200, 160, 255))
        d.polygon([(c * .34, c * .34), (c * .66, c * .34), (c * .5, c * .14)], fill=(46, 150, 70, 255))
    return np.asarray(im).astype(np.float32)

def blit(canvas, spr, y, x):
    c = spr.shape[0]
    a = spr[:, :, 3:4] / 255.0
    region = canvas[y:y + c, x:x + c]
    canvas[y:y + c, x:x + c] = region * (1 - a) + spr[:, :, :3] * a

frames = 0
t0 = time.process_time()
for f in sorted(glob.glob(os.path.join(src, "frozenlake", "level*", "data.json"))):
    data = json.load(open(f))
    for env in data.values():
        desc = env["env_desc"]
        n = int(round(len(desc) ** 0.5))
        c = S // n
        spr = {k: sprite(k, c) for k in ("ice", "hole", "cracked", "gift", "stool",
                                          "elf0", "elf1", "elf2", "elf3")}
        for acts, states, did in zip(env["actions"], env["states"], env["data_id"]):
            for i, s in enumerate(states):
                canvas = np.full((S, S, 3), 255.0, dtype=np.float32)
                for cell, t in enumerate(desc):
                    y, x = (cell // n) * c, (cell % n) * c
                    blit(canvas, spr["ice"], y, x)
                    if t == "H":
                        blit(canvas, spr["cracked" if cell == s else "hole"], y, x)
                    elif t == "G":
                        blit(canvas, spr["gift"], y, x)
                    elif t == "S" and cell != s:
                        blit(canvas, spr["stool"], y, x)
                if desc[s] != "H":
                    facing = acts[i - 1] if i > 0 else 1
                    blit(canvas, spr["elf%d" % facing], (s // n) * c, (s % n) * c)
                Image.fromarray(canvas.astype(np.uint8)).save(os.path.join(out, "%d_%d.png" % (did, i)))
                frames += 1
dt = time.process_time() - t0
print(json.dumps({"peer": "PIL/numpy frozenlake", "frames": frames, "cpu_s": round(dt, 3),
                  "fps": round(frames / dt, 1)}))
