#!/usr/bin/python3
"""PyTorch reference for tokenize/vqgan.c: the Chameleon/Anole VQGAN (taming layout, docs/chameleon.md
§4) rebuilt from torch.nn primitives (Conv2d, GroupNorm, F.pad, softmax attention, nearest
upsample), with random weights, so the module tree itself produces the real tensor names
(encoder.down.2.block.0.nin_shortcut.weight, ...). Needs Debian's python3-torch + numpy.

Usage (all outputs float32/int32 .npy, C order, no batch axis):
  ref.py --out DIR [--ch 32] [--size 64] [--seed 1] [--dtype f32|bf16|f16]
         [--prefix model.vqmodel.|none] [--encoder-only] [--K 8192] [--z 256] [--threads 1]
  writes DIR/vq.safetensors   the weights (dtype as asked; the reference runs on exactly
                              these values, widened to f32)
         DIR/input.npy        3 x S x S pixel values (Chameleon normalization of a uint8 image)
         DIR/input_u8.npy     S x S x 3 uint8 image they came from
         DIR/latent.npy       z x g x g encoder output after quant_conv (g = S/16)
         DIR/codes.npy        g x g int32 nearest codebook rows (first index on ties)
         DIR/decoded.npy      3 x S x S decoder output for codes.npy (omitted if --encoder-only)
  ref.py --check-names FILE   builds the full-width model (ch 128) and checks every tensor
                              name and shape against FILE (chameleon-vq-tensors.txt of the reference data)
  ref.py --bench N --weights DIR/vq.safetensors --size 512 --threads 2
                              times N encodes (encoder + quant_conv + argmin) of input.npy in
                              torch on CPU and prints images/s as JSON.

ch_mult is fixed to (1, 1, 2, 2, 4), num_res_blocks 2, attn_resolutions empty, GroupNorm(32,
eps 1e-6), so ch must be a multiple of 32."""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CH_MULT = (1, 1, 2, 2, 4)
NUM_RES_BLOCKS = 2


def norm(c):
    return nn.GroupNorm(num_groups=32, num_channels=c, eps=1e-6, affine=True)


def swish(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)
        self.cin, self.cout = cin, cout

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        k = k.reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (int(c) ** (-0.5)), dim=2)
        v = v.reshape(b, c, hh * ww)
        h = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1 = ResnetBlock(c, c)
        self.attn_1 = AttnBlock(c)
        self.block_2 = ResnetBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Encoder(nn.Module):
    def __init__(self, ch, z):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, 1, 1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(CH_MULT):
            lvl = nn.Module()
            lvl.block = nn.ModuleList()
            lvl.attn = nn.ModuleList()  # attn_resolutions is empty for Chameleon
            for _ in range(NUM_RES_BLOCKS):
                lvl.block.append(ResnetBlock(cin, ch * m))
                cin = ch * m
            if i != len(CH_MULT) - 1:
                lvl.downsample = Downsample(cin)
            self.down.append(lvl)
        self.mid = Mid(cin)
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, z, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i, lvl in enumerate(self.down):
            for blk in lvl.block:
                h = blk(h)
            if i != len(CH_MULT) - 1:
                h = lvl.downsample(h)
        h = self.mid(h)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, z):
        super().__init__()
        cin = ch * CH_MULT[-1]
        self.conv_in = nn.Conv2d(z, cin, 3, 1, 1)
        self.mid = Mid(cin)
        up = [None] * len(CH_MULT)
        for i in reversed(range(len(CH_MULT))):
            lvl = nn.Module()
            lvl.block = nn.ModuleList()
            lvl.attn = nn.ModuleList()
            for _ in range(NUM_RES_BLOCKS + 1):
                lvl.block.append(ResnetBlock(cin, ch * CH_MULT[i]))
                cin = ch * CH_MULT[i]
            if i != 0:
                lvl.upsample = Upsample(cin)
            up[i] = lvl
        self.up = nn.ModuleList(up)
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, 3, 3, 1, 1)

    def forward(self, q):
        h = self.mid(self.conv_in(q))
        for i in reversed(range(len(CH_MULT))):
            for blk in self.up[i].block:
                h = blk(h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(swish(self.norm_out(h)))  # no tanh


class VQModel(nn.Module):
    def __init__(self, ch, z, K, decoder=True):
        super().__init__()
        self.encoder = Encoder(ch, z)
        self.quant_conv = nn.Conv2d(z, z, 1)
        self.quantize = nn.Module()
        self.quantize.embedding = nn.Embedding(K, z)
        self.post_quant_conv = nn.Conv2d(z, z, 1)
        if decoder:
            self.decoder = Decoder(ch, z)

    def encode(self, x):
        """x: 1 x 3 x S x S -> latent (1 x z x g x g), codes (g*g)."""
        h = self.quant_conv(self.encoder(x))
        flat = h.permute(0, 2, 3, 1).reshape(-1, h.shape[1])
        e = self.quantize.embedding.weight
        # The HF ChameleonVQVAEVectorQuantizer expression, term for term.
        d = (torch.sum(flat ** 2, dim=1, keepdim=True) + torch.sum(e ** 2, dim=1) -
             2 * torch.einsum("bd,dn->bn", flat, e.transpose(0, 1)))
        return h, torch.argmin(d, dim=1)

    def decode(self, codes, g):
        q = self.quantize.embedding(codes).reshape(1, g, g, -1).permute(0, 3, 1, 2)
        return self.decoder(self.post_quant_conv(q))


def init_weights(model, seed):
    """Random weights scaled by fan-in so activations stay O(1) through the network."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embedding.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            elif ".norm" in name or name.startswith("norm") or "norm_out" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                p.copy_(torch.randn(p.shape, generator=gen) / np.sqrt(fan_in))


ST_DTYPES = {"f32": ("F32", torch.float32), "bf16": ("BF16", torch.bfloat16),
             "f16": ("F16", torch.float16)}


def round_to(model, dtype):
    """Rounds every weight to the file dtype so the reference runs on the stored values."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(ST_DTYPES[dtype][1]).to(torch.float32))


def write_safetensors(path, tensors, dtype):
    """tensors: list of (name, f32 tensor). Written in our own code (no python3-safetensors)."""
    st_name, tdt = ST_DTYPES[dtype]
    header, blobs, off = {}, [], 0
    for name, t in tensors:
        t = t.detach().contiguous().to(tdt)
        raw = (t.view(torch.int16) if tdt != torch.float32 else t).numpy().tobytes()
        header[name] = {"dtype": st_name, "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt", "source": "mvot tests/vqgan/ref.py"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = np.frombuffer(data[b:e], dtype={"F32": np.float32, "BF16": np.int16,
                                              "F16": np.float16}[info["dtype"]])
        t = torch.from_numpy(raw.copy())
        if info["dtype"] == "BF16":
            t = t.view(torch.bfloat16)
        out[name] = t.to(torch.float32).reshape(info["shape"])
    return out


def make_image(S, seed):
    """A uint8 test picture: gradients, hard-edged blocks and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:S, 0:S]
    img = np.zeros((S, S, 3), dtype=np.float64)
    img[..., 0] = 255 * x / S
    img[..., 1] = 255 * y / S
    img[..., 2] = 255 * (((x // max(S // 8, 1)) + (y // max(S // 8, 1))) % 2)
    img += rng.normal(0, 20, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def to_pixels(u8):
    x = (u8.astype(np.float64) * 0.0078).astype(np.float32) - np.float32(1.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def check_names(path):
    # Only names and shapes matter: skip the 68M-parameter random init.
    for cls in (nn.Conv2d, nn.GroupNorm, nn.Embedding):
        cls.reset_parameters = lambda self: None
    model = VQModel(128, 256, 8192)
    got = {"model.vqmodel." + k: list(v.shape) for k, v in model.state_dict().items()}
    want = {}
    for line in open(path):
        if line.startswith("model.vqmodel."):
            name, shape = line.split(" ", 1)
            want[name] = json.loads(shape)
    bad = sorted(set(got) ^ set(want)) + [k for k in got if k in want and got[k] != want[k]]
    print(json.dumps({"tensors": len(got), "reference": len(want), "mismatches": bad[:20]}))
    return 0 if not bad else 1


def bench(args):
    torch.set_num_threads(args.threads)
    w = read_safetensors(args.weights)
    w = {k[len("model.vqmodel."):] if k.startswith("model.vqmodel.") else k: v
         for k, v in w.items()}
    ch = w["encoder.conv_in.weight"].shape[0]
    z = w["quant_conv.weight"].shape[0]
    K = w["quantize.embedding.weight"].shape[0]
    model = VQModel(ch, z, K, decoder=False)
    model.load_state_dict({k: v for k, v in w.items() if not k.startswith("decoder.")})
    model.eval()
    x = torch.from_numpy(to_pixels(make_image(args.size, args.seed)))[None]
    with torch.no_grad():
        model.encode(x)  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.bench):
            model.encode(x)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"engine": "torch " + torch.__version__, "threads": args.threads,
                      "size": args.size, "images": args.bench, "seconds": dt,
                      "cpu_seconds_per_image": cpu / args.bench,
                      "images_per_s": args.bench / dt,
                      "mkldnn": torch.backends.mkldnn.is_available()}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--ch", type=int, default=32)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", choices=sorted(ST_DTYPES), default="f32")
    ap.add_argument("--prefix", default="model.vqmodel.")
    ap.add_argument("--encoder-only", action="store_true")
    ap.add_argument("--K", type=int, default=8192)
    ap.add_argument("--z", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check-names")
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--weights")
    args = ap.parse_args()
    if args.check_names:
        return check_names(args.check_names)
    if args.bench:
        return bench(args)
    if not args.out or args.ch % 32 or args.size % 16:
        ap.error("--out is required; --ch must be a multiple of 32 and --size of 16")
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    prefix = "" if args.prefix == "none" else args.prefix
    model = VQModel(args.ch, args.z, args.K, decoder=not args.encoder_only)
    init_weights(model, args.seed)
    round_to(model, args.dtype)
    model.eval()
    write_safetensors(os.path.join(args.out, "vq.safetensors"),
                      [(prefix + k, v) for k, v in model.state_dict().items()], args.dtype)
    u8 = make_image(args.size, args.seed)
    x = to_pixels(u8)
    g = args.size // 16
    with torch.no_grad():
        latent, codes = model.encode(torch.from_numpy(x)[None])
        np.save(os.path.join(args.out, "input_u8.npy"), u8)
        np.save(os.path.join(args.out, "input.npy"), x)
        np.save(os.path.join(args.out, "latent.npy"), latent[0].numpy().astype(np.float32))
        np.save(os.path.join(args.out, "codes.npy"),
                codes.reshape(g, g).numpy().astype(np.int32))
        if not args.encoder_only:
            dec = model.decode(codes, g)
            np.save(os.path.join(args.out, "decoded.npy"), dec[0].numpy().astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
