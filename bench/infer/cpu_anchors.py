"""What a CPU user would run instead of dlk-infer: the Python reference DLKUNet
(bench/reference/dlkunet.py) with a dlk checkpoint's weights, network alone, in PyTorch 2.x eager
(fp32 and bf16 autocast, channels-last), torch.compile, and ONNX Runtime: the network exported
from the reference by torch.onnx (ort-fp32), and dlk-export's model of the same checkpoint
(ort-dlk-export, with --onnx MODEL). Input: N random 1x224x224 slices (speed does not depend on the values), one
or B slices per forward pass; each mode warms up on one pass, then times every slice once.
Each mode has a time limit; one that fails or runs out says so. Prints one JSON line per mode.

usage: cpu_anchors.py CHECKPOINT [--slices 30] [--batches 1 8] [--modes ...] [--limit 300] [--compile-limit 300]
                        [--onnx MODEL] [--variant S]
modes: eager-fp32, eager-bf16, compile-fp32, compile-bf16, ort-fp32, ort-dlk-export"""
import argparse
import json
import os
import signal
import sys
import tempfile
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "reference"))
import dlk_checkpoint  # noqa: E402
from dlkunet import from_config  # noqa: E402


class TimeLimit(Exception):
    pass


def load(path):
    meta, w = dlk_checkpoint.read(path)
    m = from_config(meta["model"])
    m.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()})
    return m.eval(), meta


def run_torch(model, x, b, bf16, compiled):
    m = model.to(memory_format=torch.channels_last)
    if compiled:
        m = torch.compile(m)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else torch.no_grad

    def forward(xs):
        with torch.no_grad(), ctx():
            return m(xs.contiguous(memory_format=torch.channels_last)).float().argmax(1)

    forward(x[:b])  # warm-up (and, compiled, the compilation)
    t = time.perf_counter()
    for i in range(0, len(x), b):
        forward(x[i:i + b])
    return time.perf_counter() - t


def run_ort(model, x, b, onnx_model=None):
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as d:
        path = onnx_model or os.path.join(d, "dlkunet.onnx")
        if not onnx_model:
            torch.onnx.export(model, x[:b], path, input_names=["x"], output_names=["logits"],
                              dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, opset_version=17, dynamo=False)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = os.cpu_count()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        xs, name = x.numpy(), s.get_inputs()[0].name
        s.run(None, {name: xs[:b]})
        t = time.perf_counter()
        for i in range(0, len(xs), b):
            np.argmax(s.run(None, {name: xs[i:i + b]})[0], 1)
        return time.perf_counter() - t, ort.__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--slices", type=int, default=30)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--modes", nargs="+", default=["eager-fp32", "eager-bf16", "compile-fp32", "compile-bf16", "ort-fp32"])
    ap.add_argument("--limit", type=int, default=300, help="seconds per mode and batch")
    ap.add_argument("--compile-limit", type=int, help="seconds per torch.compile mode and batch (default: --limit)")
    ap.add_argument("--onnx", help="dlk-export's model of the checkpoint (mode ort-dlk-export)")
    ap.add_argument("--variant", help="a label copied into every line")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    model, meta = load(a.checkpoint)
    h, w = 224, 224
    x = torch.randn(a.slices, meta["model"]["in_channels"], h, w, generator=torch.Generator().manual_seed(0))

    def on_alarm(*_):
        raise TimeLimit()
    signal.signal(signal.SIGALRM, on_alarm)
    for mode in a.modes:
        for b in a.batches:
            out = {"mode": mode, "batch": b, "slices": a.slices, "torch": torch.__version__, "threads": torch.get_num_threads()}
            if a.variant:
                out["variant"] = a.variant
            limit = a.compile_limit if mode.startswith("compile") and a.compile_limit else a.limit
            signal.alarm(limit)
            try:
                if mode == "ort-dlk-export":
                    if not a.onnx:
                        raise ValueError("give --onnx MODEL (dlk-export's)")
                    s, out["onnxruntime"] = run_ort(model, x, b, a.onnx)
                elif mode.startswith("ort"):
                    s, out["onnxruntime"] = run_ort(model, x, b)
                else:
                    s = run_torch(model, x, b, mode.endswith("bf16"), mode.startswith("compile"))
                out["seconds"] = round(s, 3)
                out["slices_per_s"] = round(a.slices / s, 3)
            except TimeLimit:
                out["error"] = f"over the {limit} s limit"
            except Exception as e:  # a mode that cannot run here says why; the others still run
                out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
            finally:
                signal.alarm(0)
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
