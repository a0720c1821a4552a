# One CT written in other orientations and at another spacing (by nibabel, not by dlk): dlk-infer
# must give the same labels back on each file's own grid. Also dlk-prep's and dlk-score's side.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python "numpy, nibabel, scipy.ndimage" "to write the CT in other orientations and compare label maps"
CT=$DATA/totalseg-ct-small/ct.nii.gz
SEG=$DATA/totalseg-ct-small/seg.nii.gz

# The variants, each the same physical image: ras (the file as it is: voxel axes towards R, A, S),
# lps (x and y reversed), pir (axes permuted and two reversed), and resampled in-plane from 3 mm
# by linear interpolation, the grid's extent kept: mm1 to 1 mm, where every third voxel centre is
# an original one, so that resampling back to 3 mm finds the original values and tests the
# geometry alone; mm15 to 1.5 mm, where none is, so that the model sees a slightly blurred scan.
mkdir -p "$T/in"
"$PY" - "$CT" "$SEG" "$T/in" <<'PY' || fail "write the variants"
import sys, numpy as np, nibabel as nib, scipy.ndimage as nd
ct, seg, out = nib.load(sys.argv[1]), nib.load(sys.argv[2]), sys.argv[3]
def save(name, img, data, m):  # m maps new voxel indices to old ones (homogeneous 4x4)
    aff = img.affine @ m
    x = nib.Nifti1Image(data.astype(img.get_data_dtype()), aff)
    x.set_qform(aff, 1); x.set_sform(aff, 1)
    nib.save(x, f"{out}/{name}.nii.gz")
for img, kind in ((ct, "ct"), (seg, "seg")):
    a = np.asanyarray(img.dataobj)
    n = a.shape
    save(f"ras_{kind}", img, a, np.eye(4))
    flip = np.diag([-1.0, -1.0, 1.0, 1.0]); flip[0, 3], flip[1, 3] = n[0] - 1, n[1] - 1
    save(f"lps_{kind}", img, a[::-1, ::-1, :], flip)
    # new axis k is old axis p[k]; then new axes 0 and 2 reversed
    p = (1, 2, 0)
    b = np.transpose(a, p)[::-1, :, ::-1]
    m = np.zeros((4, 4)); m[3, 3] = 1
    for k in range(3): m[p[k], k] = 1
    r = np.eye(4); r[0, 0], r[0, 3] = -1, b.shape[0] - 1; r[2, 2], r[2, 3] = -1, b.shape[2] - 1
    save(f"pir_{kind}", img, b, m @ r)
    if kind == "seg": continue
    for name, f in (("mm1", 3), ("mm15", 2)):
        z = nd.zoom(a.astype(np.float32), (f, f, 1), order=1, grid_mode=True, mode="nearest")
        m = np.diag([1 / f, 1 / f, 1.0, 1.0]); m[0, 3] = m[1, 3] = 0.5 / f - 0.5  # new j -> old (j + 1/2)/f - 1/2
        save(name + "_ct", img, np.rint(z), m)
PY
for v in ras lps pir; do
  "$PY" -c "import nibabel as nib, sys; print(''.join(nib.aff2axcodes(nib.load(sys.argv[1]).affine)))" "$T/in/${v}_ct.nii.gz" >"$T/code_$v"
done
[ "$(cat "$T/code_ras")$(cat "$T/code_lps")$(cat "$T/code_pir")" = RASLPSPSL ] && pass "variants written as RAS, LPS and PSL" \
  || fail "variant orientations: $(cat "$T/code_ras") $(cat "$T/code_lps") $(cat "$T/code_pir")"

# dlk-prep: every variant gives the same slices. records: a shard's slice records alone, without
# the metadata (which names the source) and the index (whose offsets follow from its length):
# dlk-shard(5), a 12-byte index header with 8 bytes per slice, then a 32-byte trailer.
records() {
  "$PY" -c "
import re, sys
b = sys.stdin.buffer.read()
n = int(re.search(rb'\"slices\":(\d+)', b).group(1))
sys.stdout.buffer.write(b[b.index(b'DLKR'):len(b) - 12 - 8 * n - 32])"
}
for v in ras lps pir; do
  "$BIN/dlk-prep" -q --image "$T/in/${v}_ct.nii.gz" --label "$T/in/${v}_seg.nii.gz" --case ct --dtype float32 -o - \
    | records >"$T/slices_$v" \
    || fail "prep $v"
done
cmp -s "$T/slices_ras" "$T/slices_lps" && cmp -s "$T/slices_ras" "$T/slices_pir" && pass "RAS, LPS and PSL files give byte-identical slices" \
  || fail "the slices of the variants differ"
"$BIN/dlk-prep" -q --orientation stored --image "$T/in/lps_ct.nii.gz" --label "$T/in/lps_seg.nii.gz" --case ct --dtype float32 -o - \
  | records >"$T/stored_lps"
cmp -s "$T/slices_ras" "$T/stored_lps" && pass "an LPS file sliced as stored is already canonical" || fail "LPS as stored differs"
"$BIN/dlk-prep" -q --image "$T/in/pir_ct.nii.gz" --case ct --axis coronal -o - | "$BIN/dlk-prep" --check - >"$T/out" 2>&1
contains "101 slices  1x30x122" "coronal slices of the PSL file: 101 (A-P) of 30 rows (S-I) by 122 columns (R-L)"

# A model of the CT, trained at its own spacing (dlk-prep --spacing auto: 3 mm).
"$BIN/dlk-prep" -q --image "$CT" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES --case ct01 \
  --spacing auto -o "$T/ds" || fail "prep the training case"
grep -q '"spacing": "auto"' "$T/ds/dataset.json" && pass "dataset.json asks for the median spacing" || fail "no spacing in dataset.json"
expect 0 "train at the median spacing" "$BIN/dlk-train" "$T/ds" -o "$T/run" --base-channels 16 --size 96 --batch 6 --epochs 25 \
  --lr 0.003 --augment none --device cpu --seed 3 -v
contains "slices resampled to 3 x 3 mm, then cropped or padded to 96x96" "the median spacing resolved and logged"

# Each variant segmented: labels on its own grid; flips and permutations give the same labels.
for v in ras lps pir mm1 mm15; do
  expect 0 "segment the $v file" "$BIN/dlk-infer" -m "$T/run/final.dlkc" "$T/in/${v}_ct.nii.gz" -o "$T/pred_$v" --device cpu
done
"$PY" - "$T" <<'PY' >"$T/compare" 2>&1 || { fail "the label maps differ"; sed 's/^/    /' "$T/compare"; }
import sys, numpy as np, nibabel as nib
t = sys.argv[1]
def load(p):
    x = nib.load(p)
    return np.asanyarray(x.dataobj), x.affine
ref, ref_aff = load(f"{t}/pred_ras/ras_ct.nii.gz")
organ = (ref > 0).sum()
print(f"organ voxels predicted on the RAS file: {organ}")
assert organ > 20000, "the model found too little to compare"
for v in ("lps", "pir"):
    lab, aff = load(f"{t}/pred_{v}/{v}_ct.nii.gz")
    img = nib.load(f"{t}/in/{v}_ct.nii.gz")
    assert lab.shape == img.shape and np.allclose(aff, img.affine, atol=1e-4), f"{v}: not on the input's grid"
    back = lab[::-1, ::-1, :] if v == "lps" else np.transpose(lab[::-1, :, ::-1], (2, 0, 1))
    assert np.array_equal(back, ref), f"{v}: {np.sum(back != ref)} voxels differ"
    print(f"{v}: identical to the RAS file's labels, on its own grid")
# Resampled: against the RAS file's labels on the finer grid (a 3 mm voxel holds f x f finer ones),
# the Dice over all organ voxels (a voxel agrees when both give it the same organ), and per organ.
for v, f, least in (("mm1", 3, 0.98), ("mm15", 2, 0.95)):
    fine, aff = load(f"{t}/pred_{v}/{v}_ct.nii.gz")
    img = nib.load(f"{t}/in/{v}_ct.nii.gz")
    assert fine.shape == img.shape and np.allclose(aff, img.affine, atol=1e-4), f"{v}: not on the input's grid"
    up = np.repeat(np.repeat(ref, f, axis=0), f, axis=1)
    dice = 2 * np.sum((up == fine) & (up > 0)) / (np.sum(up > 0) + np.sum(fine > 0))
    print(f"{v}: Dice {dice:.4f} over all organ voxels against the RAS file's labels on its grid")
    for c in range(1, 9):
        a, b = up == c, fine == c
        if a.sum() + b.sum():
            print(f"  class {c}: Dice {2 * np.sum(a & b) / (a.sum() + b.sum()):.4f} ({a.sum()} voxels)")
    assert dice >= least, f"{v}: Dice {dice:.4f} < {least}"
PY
[ -s "$T/compare" ] && sed 's/^/    /' "$T/compare"
grep -q "^mm15: Dice" "$T/compare" && ! grep -q "Error" "$T/compare" && pass "flips and permutations identical, resampled Dice >= 0.98 (1 mm) and 0.95 (1.5 mm)"

# dlk-score reads a reoriented label stream back onto the reference's own grid. (float32 shards:
# the image values are then those dlk-infer computed from the file itself.)
"$BIN/dlk-prep" -q --image "$T/in/lps_ct.nii.gz" --case lps --split-name test --label-map totalseg-synapse \
  --classes $SYNAPSE_CLASSES --spacing auto --dtype float32 -o "$T/ds32" || fail "prepare the LPS case"
mkdir -p "$T/ref" && cp "$T/pred_lps/lps_ct.nii.gz" "$T/ref/lps.nii.gz"
expect 0 "dlk-infer a reoriented dataset | dlk-score against the LPS file's labels" \
  sh -c "'$BIN/dlk-infer' -m '$T/run/final.dlkc' '$T/ds32' -o - --device cpu | '$BIN/dlk-score' -p - -t '$T/ref' --csv '$T/score.csv'"
# The stream's labels, put back on the LPS file's grid, are the labels dlk-infer wrote for that file.
awk -F, 'NR > 1 && $1 == "lps" && $13 > 0 {n++; if ($4 != 1) bad++} END {exit !(n >= 5 && !bad)}' "$T/score.csv" \
  && pass "the stream scores Dice 1 for every organ against the LPS file's own labels" || { fail "stream vs file"; cat "$T/score.csv"; }

# dlk-report panel draws a reoriented case's labels over its own image slice: the RAS and the LPS
# file of the CT (their own labels as the "model") give the same picture.
for v in ras lps; do
  "$BIN/dlk-prep" -q --image "$T/in/${v}_ct.nii.gz" --label "$T/in/${v}_seg.nii.gz" --label-map totalseg-synapse \
    --classes $SYNAPSE_CLASSES --case ct --split-name test -o "$T/panel-$v" || fail "prep for the panel ($v)"
  "$BIN/dlk-report" panel "$T/panel-$v" --pred "$T/panel-$v" --name labels --case ct -o "$T/panel-$v.png" 2>"$T/out" \
    || { fail "panel ($v)"; cat "$T/out"; }
done
cmp -s "$T/panel-ras.png" "$T/panel-lps.png" && pass "panel: the RAS and LPS files give the same picture" || fail "the panels differ"

# A checkpoint of reoriented data refuses shards sliced as stored, and says why.
"$BIN/dlk-prep" -q --orientation stored --image "$CT" --case st -o - >"$T/stored.dlks" || fail "prep as stored"
expect 1 "segment shards sliced as stored with a model of reoriented data" "$BIN/dlk-infer" -m "$T/run/final.dlkc" "$T/stored.dlks" -o "$T/x" --device cpu
contains "sliced as stored, the model's training data reoriented" "the mismatch explained"
finish
