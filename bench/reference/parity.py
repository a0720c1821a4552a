"""Numeric parity of dlk's C++ DLKUNet and this Python reference.

usage: parity.py DIR [DIR...]   (each DIR made by `dlk-parity-export VARIANT DIR`)

Each DIR holds model.dlkc (weights and BN statistics written by the C++ side) and io.dlkc (the
random input and the C++ outputs in eval and train mode). The reference loads the weights,
runs the same input and must agree in fp32 to a relative error below 1e-5 (max |a-b| / max |b|).
Exit status 0 when every DIR agrees."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlk_checkpoint  # noqa: E402
from dlkunet import from_config  # noqa: E402

TOLERANCE = 1e-5


def rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def check(d):
    meta, weights = dlk_checkpoint.read(os.path.join(d, "model.dlkc"))
    _, io = dlk_checkpoint.read(os.path.join(d, "io.dlkc"))
    model = from_config(meta["model"])
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    missing = set(model.state_dict()) ^ set(state)
    if missing:
        raise SystemExit(f"{d}: tensor names differ: {sorted(missing)[:5]}")
    model.load_state_dict(state)
    x = torch.from_numpy(io["input"])
    ok = True
    with torch.no_grad():
        model.eval()
        e = rel_err(model(x), torch.from_numpy(io["eval_output"]))
        model.train()
        t = rel_err(model(x), torch.from_numpy(io["train_output"]))
    for mode, err in (("eval", e), ("train", t)):
        good = err < TOLERANCE
        ok = ok and good
        print(f"{'ok  ' if good else 'FAIL'} DLKUNet-{meta['model']['variant']} {mode:5s} input {list(x.shape)} "
              f"relative error {err:.2e} (limit {TOLERANCE:.0e}) torch {torch.__version__}")
    return ok


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    results = [check(d) for d in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)
