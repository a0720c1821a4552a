# dlk-score against an independent scipy implementation of medpy's metrics on random label
# volumes with anisotropic spacing, and its conventions, inputs and errors.
. "$(dirname "$0")/lib.inc"
need_itk
REF=$(cd "$(dirname "$0")/../score" && pwd)/medpy_reference.py
need_python "numpy, scipy, nibabel" "for the independent reference"
"$PY" "$REF" make "$T/r" 60 7 || fail "making random volumes"
expect 0 "score random volumes (medpy, mm)" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --mode medpy --distance-unit mm --csv "$T/r.csv"
"$PY" "$REF" check "$T/r" "$T/r.csv" >"$T/out" 2>&1 && pass "$(cat "$T/out")" || { fail "differs from the scipy reference"; cat "$T/out"; }

# The TransUNet convention: unit spacing, its empty-mask rules, tags in the CSV.
expect 0 "score (transunet)" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --csv "$T/t.csv" --json "$T/t.json"
contains "mode transunet, spacing unit" "the table names the convention"
grep -q ",both$" "$T/t.csv" && pass "CSV rows carry their rule" || fail "no rule column"
"$PY" - "$T/t.csv" "$T/t.json" <<'PYEOF' && pass "JSON means are the means of the CSV rows" || fail "JSON means"
import csv, json, sys, statistics
rows = list(csv.DictReader(open(sys.argv[1])))
j = json.load(open(sys.argv[2]))
for name, m in j["class_mean"].items():
    vals = [float(r["dsc"]) for r in rows if r["class"] == name]
    assert abs(statistics.mean(vals) - m["dsc"]) < 1e-12, (name, m)
assert abs(j["mean_dsc"] - statistics.mean(m["dsc"] for m in j["class_mean"].values())) < 1e-12
assert j["settings"]["mode"] == "transunet"
PYEOF
expect 2 "transunet with mm spacing" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --distance-unit mm
# Missing cases and mismatched grids.
# An nnU-Net prediction folder: the label volumes beside nnU-Net's own dataset.json, plans.json
# and predict_from_raw_data_args.json. The files are scored; its dataset.json is not dlk's.
mkdir "$T/nnunet" && cp "$T/r/pred"/*.nii.gz "$T/nnunet/"
printf '{"channel_names": {"0": "CT"}, "labels": {"background": 0, "a": 1}, "numTraining": 2, "file_ending": ".nii.gz"}\n' >"$T/nnunet/dataset.json"
echo '{}' >"$T/nnunet/plans.json"
expect 0 "score an nnU-Net prediction folder" "$BIN/dlk-score" --pred "$T/nnunet" --truth "$T/r/truth" --csv "$T/nn.csv"
cmp -s "$T/nn.csv" "$T/t.csv" && pass "nnU-Net's folder scores as its label volumes alone" || fail "nnU-Net folder: $(diff "$T/nn.csv" "$T/t.csv" | head -3)"
mkdir "$T/few" && cp "$T/r/pred/case000.nii.gz" "$T/few/"
expect 1 "a reference without prediction" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth"
contains "has a reference" "the missing case is named"
expect 0 "--allow-missing" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth" --allow-missing
contains "scored as an empty one" "the warning says how it was scored"
mkdir "$T/grid" && cp "$T/r/pred/case001.nii.gz" "$T/grid/case000.nii.gz"
mkdir "$T/one" && cp "$T/r/truth/case000.nii.gz" "$T/one/"
expect 1 "different grids" "$BIN/dlk-score" --pred "$T/grid/case000.nii.gz" --truth "$T/one/case000.nii.gz"
contains "different grids" "grid mismatch explained"
expect 2 "unknown mode" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth" --mode dice
# --keep-largest: class 1's prediction is its reference (a 4x4x4 cube: 64 voxels) plus a planted
# 8-voxel island, so keeping the largest part lifts its Dice from 2*64/(72+64) to 1; class 2's
# reference is two blocks (27 + 8 voxels) predicted exactly, so keeping the larger loses the
# smaller: Dice 1 -> 2*27/(27+35). The scores of the predictions themselves are unchanged.
mkdir -p "$T/kl/p" "$T/kl/r"
"$PY" - "$T/kl" <<'PYEOF' || fail "making the post-processing volumes"
import sys, numpy as np, nibabel as nib
r = np.zeros((20, 20, 20), np.uint8)
r[2:6, 2:6, 2:6] = 1
r[10:13, 10:13, 10:13] = 2
r[16:18, 16:18, 16:18] = 2
p = r.copy()
p[14:16, 2:4, 2:4] = 1
for d, v in (("r", r), ("p", p)):
    nib.save(nib.Nifti1Image(v, np.eye(4)), f"{sys.argv[1]}/{d}/c1.nii.gz")
PYEOF
expect 0 "score with --keep-largest all" "$BIN/dlk-score" --pred "$T/kl/p" --truth "$T/kl/r" --classes background,a,b --keep-largest all --json "$T/kl.json"
contains "keeping the largest component" "the table says what keeping the largest component does"
"$PY" - "$T/kl.json" <<'PYEOF' && pass "--keep-largest: helps class a (2*64/136 -> 1), hurts class b (1 -> 54/62), plain scores unchanged" || fail "keep-largest scores"
import json, sys
j = json.load(open(sys.argv[1]))
k = j["keep_largest"]
assert abs(k["a"]["dsc"] - 128 / 136) < 1e-12 and k["a"]["dsc_kept"] == 1 and k["a"]["helps"], k
assert k["b"]["dsc"] == 1 and abs(k["b"]["dsc_kept"] - 54 / 62) < 1e-12 and not k["b"]["helps"], k
assert abs(j["class_mean"]["a"]["dsc"] - 128 / 136) < 1e-12, j["class_mean"]
PYEOF
expect 2 "--keep-largest with an unknown class" "$BIN/dlk-score" --pred "$T/kl/p" --truth "$T/kl/r" --classes background,a,b --keep-largest c
finish
