"""The table of bench/recipes/brats.sh: per recipe, the held-out Dice (pat0003, pat0004) as a mean
over seeds, plain and with test-time augmentation, the paired differences against the first
recipe (per seed, mean and SD, wins), and the cost. Writes OUT/results.tsv (one row per run).
    python3 table.py OUT EPOCHS RECIPE... [nnunetv2]"""
import json
import os
import statistics
import sys

out, epochs, recipes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
HELD_OUT = ("pat0003", "pat0004")


def run_dir(recipe, seed):
    return f"{out}/nnunetv2/nnunet-s{seed}" if recipe == "nnunetv2" else f"{out}/{recipe}-s{seed}"


def seeds_of(recipe):
    base = f"{out}/nnunetv2" if recipe == "nnunetv2" else out
    prefix = "nnunet-s" if recipe == "nnunetv2" else f"{recipe}-s"
    if not os.path.isdir(base):
        return []
    return sorted(int(d[len(prefix):]) for d in os.listdir(base)
                  if d.startswith(prefix) and d[len(prefix):].isdigit() and os.path.exists(f"{base}/{d}/tta.json"))


def held_out(path, kind):
    d = json.load(open(path))
    return sum(d[c][kind] for c in HELD_OUT) / len(HELD_OUT)


def cost(recipe, seed):
    """Seconds per epoch of training (nnU-Net: per as many iterations as a dlk epoch) and of
    prediction over the four cases, plain and with TTA."""
    d = run_dir(recipe, seed)
    t = json.load(open(f"{d}/time.json"))
    if recipe == "nnunetv2":
        per_epoch = t["train_s"] / epochs
    else:
        lines = [json.loads(l) for l in open(f"{d}/log.jsonl")]
        per_epoch = lines[-1]["wall_s"] / len(lines)
    return per_epoch, t["predict_s"], t["predict_tta_s"]


rows, per_seed = [], {}
for r in recipes:
    for s in seeds_of(r):
        d = run_dir(r, s)
        e, p, pt = cost(r, s)
        row = {"recipe": r, "seed": s, "s_per_epoch": e, "predict_s": p, "predict_tta_s": pt}
        for mode in ("plain", "tta"):
            for kind in ("classes", "whole"):
                row[f"{mode}_{kind}"] = held_out(f"{d}/{mode}.json", kind)
        rows.append(row)
        per_seed[(r, s)] = row
with open(f"{out}/results.tsv", "w") as f:
    keys = list(rows[0]) if rows else []
    f.write("\t".join(keys) + "\n")
    for row in rows:
        f.write("\t".join(f"{row[k]:.4f}" if isinstance(row[k], float) else str(row[k]) for k in keys) + "\n")

base = recipes[0]
print(f"Held-out Dice (pat0003 and pat0004), mean over seeds; differences paired per seed against '{base}'")
print("| recipe | seeds | 4 classes | whole tumour | whole, TTA | TTA gain (whole) | vs " + base +
      ": whole (mean +- SD, median) | wins | vs " + base + ": whole, TTA | s/epoch | predict s (TTA) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in recipes:
    rs = [row for row in rows if row["recipe"] == r]
    if not rs:
        continue
    m = lambda k: statistics.mean(x[k] for x in rs)
    paired = [(per_seed[(r, x["seed"])], per_seed[(base, x["seed"])]) for x in rs if (base, x["seed"]) in per_seed]
    diff = [a["plain_whole"] - b["plain_whole"] for a, b in paired]
    diff_tta = [a["tta_whole"] - b["tta_whole"] for a, b in paired]
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else float("nan")
    vs = "" if r == base or not diff else f"{statistics.mean(diff):+.4f} +- {sd(diff):.4f} (median {statistics.median(diff):+.4f})"
    wins = "" if r == base or not diff else f"{sum(d > 0 for d in diff)}/{len(diff)}"
    vs_tta = "" if r == base or not diff_tta else f"{statistics.mean(diff_tta):+.4f} +- {sd(diff_tta):.4f}"
    print(f"| {r} | {len(rs)} | {m('plain_classes'):.4f} | {m('plain_whole'):.4f} | {m('tta_whole'):.4f} | "
          f"{m('tta_whole') - m('plain_whole'):+.4f} | {vs} | {wins} | {vs_tta} | {m('s_per_epoch'):.1f} | "
          f"{m('predict_s'):.1f} ({m('predict_tta_s'):.1f}) |")
print()
print("Whole-tumour Dice per seed (held-out mean, no TTA)")
for r in recipes:
    rs = sorted((row for row in rows if row["recipe"] == r), key=lambda x: x["seed"])
    if rs:
        print(f"| {r} | " + " ".join(f"{x['plain_whole']:.3f}" for x in rs) + " |")
