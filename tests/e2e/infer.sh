# dlk-infer: label maps on the input's exact grid (oblique and anisotropic too), the pipe into
# dlk-score equals scoring the written files, parts, options and errors.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python "numpy, nibabel" "to make and read test volumes"
D=$DATA/totalseg-ct-small
prep_ct "$T/ds" "ct01 train" "ct02 test" "ct03 test"
"$BIN/dlk-train" -q "$T/ds" -o "$T/run" --base-channels 8 --size 64 --batch 4 --epochs 2 --device cpu -j 2 || fail "train"
M=$T/run/final.dlkc

# Geometry: the CT as it is, and resampled onto an oblique, anisotropic grid (same voxels).
"$PY" - "$D/ct.nii.gz" "$T/oblique.nii.gz" <<'PYEOF'
import sys, numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
c, s = np.cos(0.3), np.sin(0.3)
rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag([0.7, 1.3, 2.9])
aff = np.eye(4); aff[:3, :3] = rot; aff[:3, 3] = [12.5, -40.25, 101.0]
nib.save(nib.Nifti1Image(np.asarray(img.dataobj), aff, img.header), sys.argv[2])
PYEOF
for f in "$D/ct.nii.gz" "$T/oblique.nii.gz"; do
  expect 0 "segment $(basename "$f")" "$BIN/dlk-infer" -m "$M" --image "$f" --case g -o "$T/geo" --device cpu
  "$PY" - "$f" "$T/geo/g.nii.gz" <<'PYEOF' && pass "$(basename "$f"): the labels' header has the input's size, spacing, origin and direction" || fail "geometry of $(basename "$f")"
import sys, numpy as np, nibabel as nib
a, b = nib.load(sys.argv[1]), nib.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
assert np.allclose(a.affine, b.affine, atol=1e-4), (a.affine, b.affine)
assert np.allclose(a.header.get_zooms()[:3], b.header.get_zooms()[:3], atol=1e-5)
assert b.get_data_dtype() == np.uint8
assert set(np.unique(np.asarray(b.dataobj))) <= set(range(9))
PYEOF
done

# The pipe gives the numbers of the written files.
expect 0 "segment the dataset's test split" "$BIN/dlk-infer" -m "$M" "$T/ds" -o "$T/pred" --device cpu --stats "$T/stats.json"
[ -s "$T/pred/ct02.nii.gz" ] && [ -s "$T/pred/ct03.nii.gz" ] && [ ! -e "$T/pred/ct01.nii.gz" ] && pass "the test split, only" || fail "cases written: $(ls "$T/pred")"
grep -q '"slices_per_s"' "$T/stats.json" && pass "--stats writes timings" || fail "no stats"
# Each stage timed; the network's share of the run is its seconds over the run's.
"$PY" - "$T/stats.json" <<'PY' && pass "--stats: the stages, each within the run, and the network's share" || fail "stage times: $(cat "$T/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["stage_seconds"]
assert set(t) == {"read", "preprocess", "network", "postprocess", "write"}, t
assert all(0 < v <= s["seconds"] for v in t.values()), t
assert abs(s["network_slices_per_s"] - s["slices"] / t["network"]) < 1e-6 * s["network_slices_per_s"]
assert abs(s["end_to_end_share"] - t["network"] / s["seconds"]) < 1e-9
PY
# One thread or two (on a CPU with bf16, two segment their own slices): the same labels.
"$BIN/dlk-infer" -m "$M" "$T/ds" -o - --device cpu -j 1 2>/dev/null >"$T/one-thread.dlks"
"$BIN/dlk-infer" -m "$M" "$T/ds" -o - --device cpu -j 2 2>/dev/null >"$T/two-threads.dlks"
cmp -s "$T/one-thread.dlks" "$T/two-threads.dlks" && pass "-j 1 and -j 2 give byte-identical label shards" || fail "-j 1 and -j 2 differ"
# The batch pipeline (one thread cuts slices out ahead of the network, one puts labels in behind
# it) against the stages one after another: the same bytes, labels and probabilities, on dlk's
# CPU network and on LibTorch's.
for net in dlk torch; do
  for q in 0 2; do
    "$BIN/dlk-infer" -m "$M" "$T/ds" -o - --device cpu -j 1 --batch 3 --probabilities --depthwise $net --prefetch $q \
      --stats "$T/pipe-$net-$q.json" 2>/dev/null >"$T/pipe-$net-$q.dlks" || fail "--prefetch $q --depthwise $net"
  done
  cmp -s "$T/pipe-$net-0.dlks" "$T/pipe-$net-2.dlks" && pass "--depthwise $net: --prefetch 2 and 0 give byte-identical shards" \
    || fail "--depthwise $net: --prefetch 2 and 0 differ"
done
# A directory of four volumes: reading the next case and writing the last overlap the network.
mkdir -p "$T/four"
for c in a b c d; do ln -s "$D/ct.nii.gz" "$T/four/ct$c.nii.gz"; done
for q in 0 2; do
  "$BIN/dlk-infer" -m "$M" "$T/four" -o "$T/four-$q" --device cpu -j 1 --batch 3 --prefetch $q --stats "$T/four-$q.json" 2>/dev/null \
    || fail "four volumes, --prefetch $q"
done
same=1
for c in a b c d; do cmp -s "$T/four-0/ct$c.nii.gz" "$T/four-2/ct$c.nii.gz" || same=0; done
[ $same = 1 ] && pass "four volumes: --prefetch 2 and 0 write byte-identical label maps" || fail "four volumes: --prefetch 2 and 0 differ"
"$PY" - "$T/four-2.json" "$T/four-0.json" <<'PY' && pass "--stats: the stages sum to more than the run; the network's busy and idle shares" || fail "pipeline stats: $(cat "$T/four-2.json")"
import json, sys
for f in sys.argv[1:]:
    s = json.load(open(f))
    assert 0 < s["network_busy_seconds"] <= s["seconds"], s
    assert abs(s["network_idle_share"] - (1 - s["network_busy_seconds"] / s["seconds"])) < 1e-9, s
s = json.load(open(sys.argv[1]))
assert s["prefetch"] == 2, s
total = sum(s["stage_seconds"].values())
print(f"    stages {total:.3f} s in a run of {s['seconds']:.3f} s")
assert total > s["seconds"], (total, s["seconds"])
PY
expect 2 "--prefetch -1" "$BIN/dlk-infer" -m "$M" "$T/ds" -o "$T/neg" --device cpu --prefetch -1
contains "--prefetch" "the refusal names --prefetch"
# LibTorch's depthwise convolutions instead of dlk's: the same labels but for rounding.
"$BIN/dlk-infer" -m "$M" "$T/ds" -o "$T/torch-dw" --device cpu --depthwise torch 2>/dev/null || fail "--depthwise torch"
"$PY" - "$T/pred" "$T/torch-dw" <<'PY' && pass "--depthwise torch: labels agree in >= 99.9% of the voxels" || fail "--depthwise torch differs"
import sys, glob, os, numpy as np, nibabel as nib
n = same = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.nii.gz")):
    a = np.asanyarray(nib.load(f).dataobj); b = np.asanyarray(nib.load(os.path.join(sys.argv[2], os.path.basename(f))).dataobj)
    n += a.size; same += int((a == b).sum())
print(f"    {same} of {n} voxels agree")
assert n and same >= 0.999 * n
PY
"$BIN/dlk-score" --pred "$T/pred" --truth "$T/ds" --csv "$T/files.csv" >/dev/null || fail "score files"
"$BIN/dlk-infer" -m "$M" "$T/ds" -o - --device cpu 2>/dev/null | "$BIN/dlk-score" --pred - --truth "$T/ds" --csv "$T/pipe.csv" >/dev/null
cmp -s "$T/files.csv" "$T/pipe.csv" && pass "dlk-infer -o - | dlk-score equals scoring the files" || fail "pipe and files differ"
"$BIN/dlk-infer" -m "$M" "$T/ds" -o - --device cpu 2>/dev/null >"$T/labels.dlks"
expect 0 "the label stream passes dlk-prep --check" "$BIN/dlk-prep" --check "$T/labels.dlks"
contains "0x101x122" "label-only shards have no image channels"

# Options: parts, test-time augmentation, logits resizing, probabilities.
mkdir "$T/vols" && cp "$D/ct.nii.gz" "$T/vols/a.nii.gz" && cp "$D/ct.nii.gz" "$T/vols/b.nii.gz"
expect 0 "--part 2/2" "$BIN/dlk-infer" -m "$M" "$T/vols" -o "$T/part" --part 2/2 --device cpu
[ "$(ls "$T/part")" = "b.nii.gz" ] && pass "the second half of the cases only" || fail "part wrote: $(ls "$T/part")"
expect 0 "--tta --resize logits --probabilities" "$BIN/dlk-infer" -m "$M" "$T/vols/a.nii.gz" -o "$T/opt" --tta --resize logits --probabilities --device cpu
expect 0 "the probabilities are a valid shard" "$BIN/dlk-prep" --check "$T/opt/a.probs.dlks"
contains "9x101x122" "one channel per class"
expect 2 "--part 3/2" "$BIN/dlk-infer" -m "$M" "$T/vols" -o "$T/x" --part 3/2
expect 1 "two channels for a one-channel model" "$BIN/dlk-infer" -m "$M" --image "$D/ct.nii.gz" --image "$D/ct.nii.gz" -o "$T/x" --device cpu
contains "2 channels, the model wants 1" "channel mismatch explained"
printf 'junk' >"$T/bad.dlkc"
expect 1 "a damaged checkpoint" "$BIN/dlk-infer" -m "$T/bad.dlkc" "$T/vols" -o "$T/x"
contains "bad.dlkc" "the checkpoint is named"
# --keep-largest: every class of the output is one face-connected component (scipy counts them,
# independently), the voxels kept are those of the plain output, and an unknown class is refused.
expect 0 "segment plainly" "$BIN/dlk-infer" -m "$M" --image "$D/ct.nii.gz" --case k -o "$T/plain" --device cpu
expect 0 "segment with --keep-largest all" "$BIN/dlk-infer" -m "$M" --image "$D/ct.nii.gz" --case k -o "$T/kl" --device cpu --keep-largest all
if "$PY" -c "import scipy.ndimage" 2>/dev/null; then
  "$PY" - "$T/plain/k.nii.gz" "$T/kl/k.nii.gz" <<'PYEOF' && pass "--keep-largest: one component per class, a subset of the plain labels" || fail "--keep-largest output"
import sys, numpy as np, nibabel as nib, scipy.ndimage as nd
a, b = (np.asarray(nib.load(f).dataobj) for f in sys.argv[1:3])
for c in np.unique(b[b > 0]):
    n = nd.label(b == c)[1]  # face connectivity: scipy's default structure
    assert n == 1, (c, n)
    assert (a[b == c] == c).all()
    big = np.bincount(nd.label(a == c)[0].ravel())[1:].max()
    assert (b == c).sum() == big, (c, (b == c).sum(), big)
assert ((b == 0) | (a == b)).all()
PYEOF
fi
expect 2 "--keep-largest with a class the model lacks" "$BIN/dlk-infer" -m "$M" --image "$D/ct.nii.gz" -o "$T/kx" --device cpu --keep-largest nosuch
contains "--keep-largest" "the message names the option"
# Ensembles: two copies of one checkpoint segment exactly as the checkpoint alone (with and
# without --tta); checkpoints of another task are refused, naming the file.
for tta in "" "--tta"; do
  expect 0 "one checkpoint $tta" "$BIN/dlk-infer" -m "$M" "$T/ds" -o "$T/one$tta" --device cpu $tta
  expect 0 "an ensemble of two copies $tta" "$BIN/dlk-infer" -m "$M" -m "$M" "$T/ds" -o "$T/two$tta" --device cpu $tta
  same=1
  for f in "$T/one$tta"/*.nii.gz; do cmp -s "$f" "$T/two$tta/$(basename "$f")" || same=0; done
  [ "$same" = 1 ] && pass "the ensemble of two copies equals the single checkpoint $tta" || fail "ensemble of copies differs $tta"
done
"$BIN/dlk-prep" -q --image "$D/ct.nii.gz" --label "$D/seg.nii.gz" --label-map totalseg-synapse --classes "$SYNAPSE_CLASSES" \
  --case x -o "$T/ds2" && "$BIN/dlk-train" -q "$T/ds2" -o "$T/other" --epochs 0 --base-channels 8 --size 48 --device cpu >/dev/null 2>&1 \
  || fail "an untrained checkpoint of another input size"
expect 1 "an ensemble of checkpoints that segment differently" "$BIN/dlk-infer" -m "$M" -m "$T/other/final.dlkc" "$T/ds" -o "$T/bad" --device cpu
contains "other/final.dlkc" "the message names the checkpoint that differs"
contains "preprocessing" "and what differs"
# --probability-maps: one uint8 NIfTI per class on the input's grid, summing to 255 in every voxel,
# whose argmax is the label map (--resize logits: both from the same interpolated logits) but for
# voxels whose top two probabilities round alike.
expect 0 "probability maps" "$BIN/dlk-infer" -m "$M" --image "$D/ct.nii.gz" --case pm -o "$T/pml" --device cpu --resize logits \
  --probability-maps "$T/pm"
"$PY" - "$T/pm" "$T/pml/pm.nii.gz" "$D/ct.nii.gz" <<'PYEOF' && pass "probability maps: 9 classes, sum 255 everywhere, argmax = labels, the input's grid" || fail "probability maps"
import sys, numpy as np, nibabel as nib
d, lab, ct = sys.argv[1:4]
names = "background aorta gallbladder kidney_left kidney_right liver pancreas spleen stomach".split()
imgs = [nib.load(f"{d}/pm_{n}.nii.gz") for n in names]
assert all(np.allclose(i.affine, nib.load(ct).affine, atol=1e-4) and i.shape == nib.load(ct).shape for i in imgs)
p = np.stack([np.asarray(i.dataobj).astype(np.int32) for i in imgs])
assert (p.sum(0) == 255).all()
l = np.asarray(nib.load(lab).dataobj)
top = np.sort(p, 0)
agree = (p.argmax(0) == l) | (top[-1] - top[-2] <= 1)
assert agree.all(), (~agree).sum()
PYEOF
finish
