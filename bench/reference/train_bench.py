"""Training and inference throughput of the Python reference DLKUNet (bench/reference/dlkunet.py),
measured as ../shared/anchors/README.md describes: batch 24 of 1x224x224 random inputs, 9 classes,
0.5 CE + 0.5 soft Dice, Adam; median of 20 steps after 5 warm-up steps, CUDA events; inference =
forward of 64 slices without grad. Prints one JSON line per variant and mode.

usage: train_bench.py [--variants S M L] [--modes bf16+cl ...] [--steps 20] [--cudnn-benchmark]
                      [--cpu [--batch 4]]
(modes: bf16 or fp32, +cl for channels-last, +compile for torch.compile in its default mode: the
warm-up steps then include the compilation, which is not timed)
(--cudnn-benchmark: torch.backends.cudnn.benchmark = True, as dlk-train and dlk-infer do on a GPU;
--cpu: the training step on the CPU with all cores, modes fp32, fp32+cl or fp32+cl+compile, median
of --steps after one (which compiles), wall-clock time, no inference)"""
import time
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dlkunet import DLKUNet  # noqa: E402


def dice_loss(logits, target, k):
    p = torch.softmax(logits.float(), 1)
    t = F.one_hot(target, k).permute(0, 3, 1, 2).float()
    inter, z, y = (p * t).sum((0, 2, 3)), (p * p).sum((0, 2, 3)), (t * t).sum((0, 2, 3))
    return (1 - (2 * inter + 1e-5) / (z + y + 1e-5)).mean()


def run_cpu(variant, mode, steps, batch, size=224, classes=9):
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    model = DLKUNet(variant, 1, classes)
    cl = "cl" in mode
    if cl:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    net = torch.compile(model) if "compile" in mode else model  # compiled in the untimed first step
    x = torch.randn(batch, 1, size, size)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch, size, size))
    times = []
    for i in range(1 + steps):
        t = time.perf_counter()
        out = net(x)
        loss = 0.5 * F.cross_entropy(out, y) + 0.5 * dice_loss(out, y, classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 1:
            times.append(1000 * (time.perf_counter() - t))
    ms = sorted(times)[len(times) // 2]
    return {"variant": variant, "mode": mode, "device": "cpu", "batch": batch, "train_ms_per_step": round(ms, 1),
            "train_img_per_s": round(batch * 1000 / ms, 2), "torch": torch.__version__}


def run(variant, mode, steps, batch=24, size=224, classes=9):
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = DLKUNet(variant, 1, classes).to(dev)
    cl = "cl" in mode
    if cl:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    net = torch.compile(model) if "compile" in mode else model
    x = torch.randn(batch, 1, size, size, device=dev)
    if cl:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch, size, size), device=dev)
    amp = "bf16" in mode
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(5 + steps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            out = net(x)
            loss = 0.5 * F.cross_entropy(out.float(), y) + 0.5 * dice_loss(out, y, classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        b.record()
        torch.cuda.synchronize()
        if i >= 5:
            times.append(a.elapsed_time(b))
    times.sort()
    ms = times[len(times) // 2]
    model.eval()
    xi = torch.randn(64, 1, size, size, device=dev)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
        for _ in range(3):
            net(xi)
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(5):
            net(xi)
        b.record()
        torch.cuda.synchronize()
    infer = 64 * 5 / (a.elapsed_time(b) / 1000)
    return {"variant": variant, "mode": mode, "train_ms_per_step": round(ms, 1), "train_img_per_s": round(batch * 1000 / ms, 1),
            "infer_slices_per_s": round(infer, 1), "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1),
            "torch": torch.__version__, "device": torch.cuda.get_device_name(),
            "cudnn_benchmark": torch.backends.cudnn.benchmark}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", nargs="+", default=["S", "M", "L"])
    ap.add_argument("--modes", nargs="+", default=["bf16+cl"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cudnn-benchmark", action="store_true")
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    for v in args.variants:
        for m in args.modes:
            if args.cpu:
                print(json.dumps(run_cpu(v, m, args.steps, args.batch or 4)), flush=True)
            else:
                print(json.dumps(run(v, m, args.steps, args.batch or 24)), flush=True)
