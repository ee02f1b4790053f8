#!/usr/bin/env python3
"""Converts Meta's original Chameleon VQGAN checkpoint (vqgan.ckpt, a torch pickle whose
"state_dict" holds encoder.*, decoder.*, quantize.*, quant_conv.* and post_quant_conv.*, plus
training-only tensors such as loss.*) into one .safetensors file with the tensor names mvot
loads (docs/codebook-format.md, "Checkpoint layouts"). The result has the decoder that the
Hugging Face conversion of facebook/chameleon-7b lacks, so decode, `mvot inspect`, eval's
visual metrics and augmentation can use it.

Safety: the pickle is read with torch.load(..., weights_only=True), which only rebuilds
tensors and plain containers and never runs code from the file; a checkpoint that needs more
is refused, not unpickled.

Usage: convert_vqgan_ckpt.py CKPT --out OUT.safetensors [--prefix model.vqmodel.|none]
                             [--dtype keep|f32|bf16|f16]
Exit status: 0 written, 1 the checkpoint could not be read or is not a VQGAN, 2 usage (bad
arguments, OUT exists: this tool never replaces a file). Needs PyTorch >= 1.13."""
import argparse
import json
import os
import struct
import sys

KEEP = ("encoder.", "decoder.", "quantize.", "quant_conv.", "post_quant_conv.")
REQUIRED = ("encoder.conv_in.weight", "encoder.conv_out.weight", "quantize.embedding.weight")


def fail(code, msg):
    print("convert_vqgan_ckpt.py: " + msg, file=sys.stderr)
    sys.exit(code)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefix", default="model.vqmodel.",
                    help='name prefix in the output (the HF layout\'s, default), or "none"')
    ap.add_argument("--dtype", default="keep", choices=["keep", "f32", "bf16", "f16"])
    args = ap.parse_args()
    if os.path.exists(args.out):
        fail(2, "%s exists; this tool does not replace files" % args.out)
    try:
        import torch
    except ImportError:
        fail(1, "PyTorch is required (Debian: python3-torch)")
    dtypes = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
    want = {"keep": None, "f32": "F32", "bf16": "BF16", "f16": "F16"}[args.dtype]

    try:
        obj = torch.load(args.ckpt, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        fail(1, "%s: no such file" % args.ckpt)
    except Exception as e:  # weights_only refuses anything but tensors and containers
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        fail(1, "%s: not loaded: torch.load(weights_only=True) refused it (%s); this tool "
                "never unpickles code from a checkpoint" % (args.ckpt, first))
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(sd, dict):
        fail(1, "%s: no state_dict" % args.ckpt)
    kept = {k: v for k, v in sd.items() if isinstance(k, str) and k.startswith(KEEP)}
    for name in REQUIRED:
        if not torch.is_tensor(kept.get(name)):
            fail(1, "%s: no %s: not a Chameleon VQGAN state_dict" % (args.ckpt, name))
    prefix = "" if args.prefix == "none" else args.prefix

    header, blobs, off = {}, [], 0
    for name in sorted(kept):
        t = kept[name]
        if not torch.is_tensor(t):
            fail(1, "%s: state_dict[%r] is not a tensor" % (args.ckpt, name))
        st_dt = want or {torch.float32: "F32", torch.bfloat16: "BF16",
                         torch.float16: "F16"}.get(t.dtype)
        if st_dt is None:
            fail(1, "%s: %s has dtype %s (want float32, bfloat16 or float16)"
                 % (args.ckpt, name, t.dtype))
        t = t.detach().to(dtypes[st_dt]).contiguous()
        raw = (t.view(torch.int16) if st_dt != "F32" else t).numpy().tobytes()
        header[prefix + name] = {"dtype": st_dt, "shape": list(t.shape),
                                 "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt", "source": os.path.basename(args.ckpt),
                              "converter": "mvot tools/python/convert_vqgan_ckpt.py"}
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    # Written beside the output and renamed, so OUT never exists half-written.
    tmp = "%s.tmp-%d" % (args.out, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, args.out)  # fails instead of replacing a file that appeared meanwhile
    except OSError as e:
        fail(1, "%s: cannot write: %s" % (args.out, e.strerror or e))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    has_dec = any(k.startswith("decoder.") for k in kept)
    print("%s: %d tensors (%s), %d dropped (%s)" % (
        args.out, len(kept), "with decoder" if has_dec else "encoder-only: no decoder.* tensors",
        len(sd) - len(kept),
        ", ".join(sorted({k.split(".")[0] + ".*" for k in sd if k not in kept})) or "none"))


if __name__ == "__main__":
    main()
