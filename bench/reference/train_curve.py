"""The loss curve of a seeded dlk training run against the Python reference, step for step.

usage: train_curve.py DIR [--factor F] [--noise-runs N] [--json]   (DIR made by `dlk-curve-export`)

DIR holds model.dlkc (the run's initial weights), data.dlkc (its pool of batches) and curve.dlkc
(dlk's loss at every step, and the device and precision it ran with). This script trains the
reference DLKUNet (dlkunet.py) from the same weights on the same batches in the same order, with
the same loss (0.5 CE + 0.5 soft Dice, as train_bench.py), torch.optim.Adam at lr 1e-3, on the
same device and precision, and compares the curves.

Two runs of the same maths drift apart as rounding differences grow through the steps. The
noise that measures "the same within noise" is the reference against itself started from weights
changed by about one rounding of the run's precision (one part in 10^7 in fp32, 2^-8 in bf16),
in N (default 3) runs with different random changes. The curves agree when at every step the
relative difference of the loss, dlk against the reference, is at most F (default 3) times the
largest of the noise runs' up to that step, plus 1e-5. Exit status 1 when they do not.
"""
import argparse
import contextlib
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dlk_checkpoint  # noqa: E402
from dlkunet import from_config  # noqa: E402
from train_bench import dice_loss  # noqa: E402


def reference_curve(d, steps, device, precision, perturb=0.0, seed=1):
    meta, weights = dlk_checkpoint.read(os.path.join(d, "model.dlkc"))
    _, data = dlk_checkpoint.read(os.path.join(d, "data.dlkc"))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = from_config(meta["model"])
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    if perturb:  # every float weight times (1 + perturb * N(0, 1)), seeded
        g = torch.Generator().manual_seed(seed)
        state = {k: v * (1 + perturb * torch.randn(v.shape, generator=g)) if v.is_floating_point() else v
                 for k, v in state.items()}
    model.load_state_dict(state)
    dev = torch.device(device)
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(data["x"]).to(dev)
    y = torch.from_numpy(data["y"]).to(dev)
    pool, batch = 4, x.shape[0] // 4
    k = meta["model"]["classes"]
    amp = device.startswith("cuda") and precision == "bf16"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if amp else contextlib.nullcontext
    losses = []
    for i in range(steps):
        b = i % pool
        xb, yb = x[b * batch:(b + 1) * batch], y[b * batch:(b + 1) * batch]
        with autocast():
            out = model(xb)
            loss = 0.5 * F.cross_entropy(out.float(), yb) + 0.5 * dice_loss(out, yb, k)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return meta["model"], losses


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--factor", type=float, default=3.0)
    ap.add_argument("--noise-runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of the text report")
    a = ap.parse_args()
    cmeta, curve = dlk_checkpoint.read(os.path.join(a.dir, "curve.dlkc"))
    dlk = [float(v) for v in curve["loss"]]
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model, ref = reference_curve(a.dir, len(dlk), cmeta["device"], cmeta["precision"])
    perturb = 2.0 ** -8 if cmeta["precision"] == "bf16" else 1e-7
    noises = [reference_curve(a.dir, len(dlk), cmeta["device"], cmeta["precision"], perturb, seed)[1]
              for seed in range(1, a.noise_runs + 1)]
    noise = noises[0]
    rel = [abs(p - q) / max(abs(q), 1e-12) for p, q in zip(dlk, ref)]
    rel_noise = [max(abs(n[i] - q) / max(abs(q), 1e-12) for n in noises) for i, q in enumerate(ref)]
    q = max(1, len(dlk) // 4)
    r = {"variant": model["variant"], "base_channels": model["base_channels"], "steps": len(dlk),
         "device": cmeta["device"], "precision": cmeta["precision"], "dlk_depthwise": cmeta.get("depthwise"),
         "dlk_libtorch": cmeta.get("libtorch"), "torch": torch.__version__,
         "max_rel_first_10": max(rel[:10]), "max_rel": max(rel), "noise_max_rel": max(rel_noise),
         "dlk_first": dlk[0], "ref_first": ref[0],
         "dlk_last_quarter_mean": sum(dlk[-q:]) / q, "ref_last_quarter_mean": sum(ref[-q:]) / q,
         "factor": a.factor}
    envelope, worst = 0.0, None  # the noise's running maximum; the step furthest beyond its limit
    for i, (d, n) in enumerate(zip(rel, rel_noise)):
        envelope = max(envelope, n)
        excess = d / (a.factor * envelope + 1e-5)
        if worst is None or excess > worst[1]:
            worst = (i, excess)
    r["worst_step"], r["worst_ratio_to_limit"] = worst[0] + 1, worst[1]
    ok = worst[1] <= 1.0
    if a.json:
        print(json.dumps(r))
    else:
        for i in sorted({0, 1, 9, len(dlk) // 2, len(dlk) - 1}):
            print(f"step {i + 1:4d}: dlk {dlk[i]:.6f}  reference {ref[i]:.6f} (noise run {noise[i]:.6f})  "
                  f"relative difference {rel[i]:.2e} (noise {rel_noise[i]:.2e})")
        print(f"{'ok  ' if ok else 'FAIL'} DLKUNet-{r['variant']} (base {r['base_channels']}) {r['steps']} steps, "
              f"{r['device']} {r['precision']}: largest relative difference {r['max_rel']:.2e}, the reference's "
              f"noise {r['noise_max_rel']:.2e}; closest to the limit ({a.factor:g}x the noise so far + 1e-5): step "
              f"{r['worst_step']} at {r['worst_ratio_to_limit']:.2f} of it; first 10 steps {r['max_rel_first_10']:.2e}; "
              f"mean loss of the last quarter dlk {r['dlk_last_quarter_mean']:.5f}, reference "
              f"{r['ref_last_quarter_mean']:.5f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
