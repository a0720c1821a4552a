"""The floor of one DLKUNet training step (issue 7): the FLOPs, and the fewest bytes a layer-by-layer
schedule must move through device memory, for batch 24 of 1x224x224, 9 classes, bf16 storage.

FLOPs: 2 per multiply-accumulate of every conv and transposed conv; backward = 2x forward (input and
weight gradients), so a step is 3x the forward.
Bytes: every tensor such a schedule materialises (each conv/transposed-conv output, each BN(+ReLU)
output, the LKA gate's product, each pooled map and each concatenation) is written once and read
once going forward; going back, each is read once more (saved for its gradient) and its gradient
is written once and read once: 4 x 2 bytes per element. Parameters and optimizer state (a few MB)
are left out. Fusing layers (e.g. BN+ReLU into the conv, the LKA chain into one kernel) lowers it.
usage: python3 bench/gpu/floor.py   (CPU is enough; prints a Markdown table)"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from dlkunet import DLKUNet, EBlock, LKA  # noqa: E402

CARDS = {"H100 SXM (3.35 TB/s, 989 TFLOP/s bf16)": (3.35e12, 989e12),
         "H200 (4.8 TB/s, 989 TFLOP/s bf16)": (4.8e12, 989e12)}


def count(variant, batch=24, size=224, classes=9):
    m = DLKUNet(variant, 1, classes).eval()
    elems, macs = [0], [0]

    def out_hook(mod, inp, out):
        elems[0] += out.numel()
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            w = mod.weight
            per_out = w.numel() // (w.shape[0] if isinstance(mod, nn.Conv2d) else w.shape[1])
            if isinstance(mod, nn.ConvTranspose2d):  # each input pixel meets every weight once
                macs[0] += inp[0].numel() * w.numel() // w.shape[0]
            else:
                macs[0] += out.numel() * per_out

    def in_hook(mod, inp):  # the pooled map or the concatenation an EBlock reads
        elems[0] += inp[0].numel()

    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, LKA)):
            mod.register_forward_hook(out_hook)
        if isinstance(mod, EBlock):
            mod.register_forward_pre_hook(in_hook)
    with torch.no_grad():
        m(torch.zeros(1, 1, size, size))
    return batch * elems[0], batch * macs[0]


if __name__ == "__main__":
    print("| variant | GFLOP per step (batch 24) | GB per step (bf16) | " +
          " | ".join(f"floor ms, {c}" for c in CARDS) + " | floor img/s " + " / ".join(c.split(" (")[0] for c in CARDS) + " |")
    print("|---|---|---|" + "---|" * len(CARDS) + "---|")
    for v in ("S", "M", "L"):
        elems, macs = count(v)
        flops, nbytes = 6 * macs, 8 * elems
        floors = [max(nbytes / bw, flops / peak) * 1e3 for bw, peak in CARDS.values()]
        print(f"| {v} | {flops / 1e9:.0f} | {nbytes / 1e9:.1f} | " + " | ".join(f"{f:.1f}" for f in floors) +
              " | " + " / ".join(f"{24e3 / f:.0f}" for f in floors) + " |")
