# examples/Makefile: the synapse and acdc targets on tiny fake data in the real layouts (made here,
# tiny training settings) so that their wiring cannot rot, and table1's exact parameter counts.
. "$(dirname "$0")/lib.inc"
need_itk
need_python "numpy, nibabel" "to make the fake data"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$PY" - "$T" <<'PYEOF' || fail "making fake RawData and ACDC trees"
import os, sys, numpy as np, nibabel as nib
t = sys.argv[1]; rng = np.random.default_rng(0)
def vol(path, data):
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 3.0, 1.0])), path)
def pair(img, lab, labels):
    x = rng.normal(0, 100, (24, 24, 4)).astype(np.int16)
    y = np.zeros((24, 24, 4), np.uint8)
    for k, v in enumerate(labels):
        y[2 + 4 * k: 5 + 4 * k, 4:20, :] = v
    x[y > 0] += 200
    vol(img, x); vol(lab, y)
s = os.path.join(t, "RawData", "Training"); os.makedirs(s + "/img"); os.makedirs(s + "/label")
for n in list(range(1, 11)) + list(range(21, 41)):   # the 30 labelled BTCV cases
    pair(f"{s}/img/img{n:04d}.nii.gz", f"{s}/label/label{n:04d}.nii.gz", [8, 4, 6, 1, 13])
for p in range(1, 101):                               # 100 ACDC patients, ED and ES
    d = os.path.join(t, "ACDC", "training", f"patient{p:03d}"); os.makedirs(d)
    open(d + "/Info.cfg", "w").write("ED: 1\nES: 7\nGroup: NOR\n")
    for f in (1, 7):
        pair(f"{d}/patient{p:03d}_frame{f:02d}.nii.gz", f"{d}/patient{p:03d}_frame{f:02d}_gt.nii.gz", [1, 2, 3])
PYEOF
TINY="--epochs 1 --base-channels 4 --size 32 --batch 16 -j 2"
cd "$ROOT"
expect 0 "make synapse (tiny)" make -f examples/Makefile synapse-steps T="$BIN" SYNAPSE="$T/RawData" SYNAPSE_OUT="$T/syn" \
  VARIANTS=S DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper $TINY"
contains "| DLKUNet-S |" "Table 2 has our row"
contains "| Swin-Unet |" "and the published ones"
contains "Kid(L)" "organs abbreviated as the paper does"
[ -s "$T/syn/S/scores.csv" ] && [ "$(grep -c '^case0' "$T/syn/S/scores.csv")" = $((12 * 8)) ] && pass "12 test cases x 8 classes scored" || fail "scores.csv"
expect 0 "make synapse again does nothing" make -f examples/Makefile synapse-steps T="$BIN" SYNAPSE="$T/RawData" SYNAPSE_OUT="$T/syn" \
  VARIANTS=S DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper $TINY"
grep -q "dlk-train" "$T/out" && fail "the second run retrained" || pass "incremental: nothing rerun"
expect 0 "make acdc (tiny)" make -f examples/Makefile acdc-steps T="$BIN" ACDC="$T/ACDC/training" ACDC_OUT="$T/acdc" \
  VARIANTS=S DEVICE=cpu ACDC_TRAIN="--config acdc-paper $TINY"
contains "| RV | Myo | LV |" "Table 3 has RV, Myo, LV"
contains "DLKUNet-M (paper)" "the published ACDC rows"
[ "$(grep -c '^patient' "$T/acdc/S/scores.csv")" = $((40 * 3)) ] && pass "40 test volumes x 3 classes scored" || fail "acdc scores.csv"
expect 0 "make table1" make -f examples/Makefile --no-print-directory table1 T="$BIN" BUILD=/nonexistent -o tools
contains "| DLKUNet-L | {96,192,384,768} | 17.71 | 17708659 |" "Table 1's exact parameter counts"
expect 2 "make synapse without SYNAPSE" make -f examples/Makefile synapse -o tools
finish
