#!/usr/bin/env python3
"""PyTorch peer for the CUDA VQGAN encoder (run by run-device-check.sh on the GPU machine).

Loads the same safetensors checkpoint into transformers' ChameleonVQVAE (falling back to a
plain torch.nn.functional encoder written from docs/chameleon.md section 4 when transformers
cannot build it), then
  1. compares its FP32 latents and float64-argmin codes with what mvot-gpubench dumped
     (images.u8, latent_gpu.f32, codes_gpu.i32, meta.json), and
  2. times encoder + quant_conv + nearest-code search in FP32, TF32 and BF16 at batch B.
Writes one JSON object to --out.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", default="cuda", help="cuda, or cpu for a local check (no timing)")
    a = ap.parse_args()
    res = {"peer": None}
    try:
        run(a, res)
    except Exception as e:  # report, never hide
        res["error"] = "%s: %s" % (type(e).__name__, e)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print(json.dumps(res, sort_keys=True))
    return 0 if "error" not in res else 1


def load_state(path):
    """safetensors -> {name without "model.vqmodel.": float32 tensor}, parsed here so that
    neither the safetensors package nor its version matters."""
    import struct

    import numpy as np
    import torch

    raw = open(path, "rb").read()
    (hl,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + hl])
    base = 8 + hl
    pre = "model.vqmodel."
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        buf = raw[base + b:base + e]
        if v["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype="<f4")
        elif v["dtype"] == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif v["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue
        t = torch.from_numpy(arr.copy()).reshape(v["shape"])
        out[k[len(pre):] if k.startswith(pre) else k] = t
    return out


def arch(sd):
    ch = sd["encoder.conv_in.weight"].shape[0]
    mult, l = [], 0
    while "encoder.down.%d.block.0.conv1.weight" % l in sd:
        mult.append(sd["encoder.down.%d.block.0.conv1.weight" % l].shape[0] // ch)
        l += 1
    nb = 0
    while "encoder.down.0.block.%d.conv1.weight" % nb in sd:
        nb += 1
    K, D = sd["quantize.embedding.weight"].shape
    z = sd["encoder.conv_out.weight"].shape[0]
    return ch, mult, nb, K, D, z


def build_hf(sd, torch):
    from transformers.models.chameleon.configuration_chameleon import ChameleonVQVAEConfig
    from transformers.models.chameleon.modeling_chameleon import ChameleonVQVAE

    ch, mult, nb, K, D, z = arch(sd)
    cfg = ChameleonVQVAEConfig(embed_dim=D, num_embeddings=K, double_latent=False,
                               latent_channels=z, resolution=512, in_channels=3,
                               base_channels=ch, channel_multiplier=mult, num_res_blocks=nb,
                               attn_resolutions=[], dropout=0.0)
    m = ChameleonVQVAE(cfg)
    own = {k for k in m.state_dict() if k.startswith(("encoder.", "quant_conv.", "quantize."))}
    missing = sorted(own - set(sd))
    extra = sorted(k for k in sd if k.startswith(("encoder.", "quant_conv.", "quantize."))
                   and k not in own)
    if missing or extra:
        raise RuntimeError("HF module tensors differ: missing %s, extra %s" % (missing[:5], extra[:5]))
    m.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)
    m.eval()

    def enc(x):
        h = m.encoder(x)
        if isinstance(h, (tuple, list)):
            h = h[0]
        if hasattr(h, "last_hidden_state"):
            h = h.last_hidden_state
        return m.quant_conv(h)

    return m, enc


def build_functional(sd, torch):
    import torch.nn.functional as F

    ch, mult, nb, K, D, z = arch(sd)
    W = {k: v for k, v in sd.items()}

    def conv(x, name, stride=1, pad=1):
        w = W[name + ".weight"]
        if w.shape[-1] == 1:
            return F.conv2d(x, w, W[name + ".bias"])
        if stride == 2:
            x = F.pad(x, (0, 1, 0, 1))
            return F.conv2d(x, w, W[name + ".bias"], stride=2)
        return F.conv2d(x, w, W[name + ".bias"], padding=pad)

    def gn(x, name):
        return F.group_norm(x, 32, W[name + ".weight"], W[name + ".bias"], eps=1e-6)

    def res(x, name):
        h = conv(F.silu(gn(x, name + ".norm1")), name + ".conv1")
        h = conv(F.silu(gn(h, name + ".norm2")), name + ".conv2")
        if name + ".nin_shortcut.weight" in W:
            x = conv(x, name + ".nin_shortcut")
        return x + h

    def attn(x, name):
        h = gn(x, name + ".norm")
        q, k, v = (conv(h, name + "." + t) for t in "qkv")
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)
        k = k.reshape(b, c, hh * ww)
        w_ = torch.softmax(torch.bmm(q, k) * (int(c) ** -0.5), dim=2)
        v = v.reshape(b, c, hh * ww)
        o = torch.bmm(v, w_.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + conv(o, name + ".proj_out")

    def enc(x):
        h = conv(x, "encoder.conv_in")
        for l in range(len(mult)):
            for j in range(nb):
                h = res(h, "encoder.down.%d.block.%d" % (l, j))
            if "encoder.down.%d.downsample.conv.weight" % l in W:
                h = conv(h, "encoder.down.%d.downsample.conv" % l, stride=2)
        h = res(h, "encoder.mid.block_1")
        h = attn(h, "encoder.mid.attn_1")
        h = res(h, "encoder.mid.block_2")
        h = conv(F.silu(gn(h, "encoder.norm_out")), "encoder.conv_out")
        return conv(h, "quant_conv")

    class Holder:
        def to(self, dev=None, dtype=None):
            for k in W:
                W[k] = W[k].to(device=dev) if dtype is None else W[k].to(device=dev, dtype=dtype)
            return self

    return Holder(), enc


def run(a, res):
    import numpy as np
    import torch

    dev = torch.device(a.device)
    res["torch"] = torch.__version__
    res["device"] = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    sd = load_state(a.ckpt)
    try:
        m, enc = build_hf(sd, torch)
        res["peer"] = "transformers ChameleonVQVAE"
        m.to(dev)
        to = lambda dtype: m.to(dtype=dtype)  # noqa: E731
    except Exception as e:
        res["hf_error"] = "%s: %s" % (type(e).__name__, e)
        m, enc = build_functional(sd, torch)
        res["peer"] = "torch.nn.functional encoder (transformers unavailable)"
        m.to(dev)
        to = lambda dtype: m.to(dev, dtype)  # noqa: E731
    emb = sd["quantize.embedding.weight"].to(dev)

    meta = json.load(open(os.path.join(a.dump, "meta.json")))
    n, S, D, g = meta["n"], meta["S"], meta["D"], meta["grid"]
    img = np.fromfile(os.path.join(a.dump, "images.u8"), dtype=np.uint8).reshape(n, S, S, 3)
    lat_gpu = np.fromfile(os.path.join(a.dump, "latent_gpu.f32"), dtype=np.float32).reshape(n, D, g * g)
    codes_gpu = np.fromfile(os.path.join(a.dump, "codes_gpu.i32"), dtype=np.int32).reshape(n, g * g)
    # HF preprocessing: f32(f32(u8 * 0.0078) - 1), planar.
    x = (torch.from_numpy(img).double() * 0.0078).float() - 1.0
    x = x.permute(0, 3, 1, 2).contiguous().to(dev)

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    with torch.no_grad():
        zt = enc(x).float().reshape(n, D, g * g)
    z64 = zt.double().permute(0, 2, 1).reshape(-1, D)
    e64 = emb.double()
    d = (z64 * z64).sum(1, keepdim=True) + (e64 * e64).sum(1)[None, :] - 2.0 * z64 @ e64.T
    codes_t = torch.argmin(d, dim=1).reshape(n, g * g).cpu().numpy()
    lt = zt.cpu().numpy()
    err = np.abs(lt - lat_gpu)
    res["vs_mvot_gpu_fp32"] = {
        "images": int(n),
        "latent_max_abs_err": float(err.max()),
        "latent_max_abs": float(np.abs(lt).max()),
        "latent_rel_l2_err": float(np.sqrt((err.astype(np.float64) ** 2).sum() / (lt.astype(np.float64) ** 2).sum())),
        "code_agreement": float((codes_t == codes_gpu).mean()),
    }

    if a.device != "cuda":
        return
    # Throughput at batch B (images repeated from the dump), encoder + quant_conv + search.
    B = a.batch
    xb = x.repeat((B + n - 1) // n, 1, 1, 1)[:B].contiguous()
    en = (emb * emb).sum(1)

    def step(xx, e, en_):
        z = enc(xx)
        zf = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        return torch.argmin(en_[None, :] - 2.0 * zf @ e.T, dim=1)

    for name, tf32, dtype in (("fp32", False, torch.float32), ("tf32", True, torch.float32),
                              ("bf16", False, torch.bfloat16)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        to(dtype)
        xx, e, en_ = xb.to(dtype), emb.to(dtype), en.to(dtype)
        times = []
        with torch.no_grad():
            for it in range(2 + a.iters):
                s, t = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                step(xx, e, en_)
                t.record()
                torch.cuda.synchronize()
                if it >= 2:
                    times.append(s.elapsed_time(t))
        times.sort()
        ms = times[len(times) // 2]
        res["torch_%s" % name] = {"batch": B, "ms_per_batch": ms, "images_per_s": B / (ms / 1000.0)}
    to(torch.float32)


if __name__ == "__main__":
    sys.exit(main())
