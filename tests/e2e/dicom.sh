# DICOM series in: written from the shared CT with pydicom (instance numbers against the slice
# positions, shuffled file names, a rescale intercept), a series gives dlk-prep the same slices as
# the NIfTI and dlk-infer the same labels; a study of two series needs --series; every fault is an
# error naming the directory and the reason, exit 1, nothing written, no patient tag printed.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_venv_python "pydicom, nibabel, numpy" "to write DICOM series"
HERE=$(cd "$(dirname "$0")" && pwd)
MAKE="$PYX $HERE/../dicom/make_series.py"
CT=$DATA/totalseg-ct-small/ct.nii.gz
SEG=$DATA/totalseg-ct-small/seg.nii.gz
$MAKE "$CT" "$T/ct" || fail "write the series"
[ "$(ls "$T/ct" | wc -l)" = 30 ] && pass "30 slices written" || fail "series: $(ls "$T/ct" | wc -l) files"

# dlk-prep: the same slices and labels from the series as from the NIfTI.
for src in "$T/ct" "$CT"; do
  "$BIN/dlk-prep" --image "$src" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES --case c1 -o - \
    >"$T/$(basename "$src").dlks" && pass "dlk-prep --image $(basename "$src")" || fail "dlk-prep --image $src"
done
"$PYX" - "$T/ct.dlks" "$T/ct.nii.gz.dlks" <<'PYEOF' && pass "the series' shard holds the NIfTI's slices and labels" || fail "shards differ"
import json, struct, sys
def parts(path):
    b = open(path, "rb").read()
    n = struct.unpack_from("<I", b, 16)[0]
    index = struct.unpack_from("<Q", b, len(b) - 32 + 8)[0]  # trailer: tag, count, index offset, ...
    return json.loads(b[24:24 + n]), b[24 + n:index]
(ma, ra), (mb, rb) = parts(sys.argv[1]), parts(sys.argv[2])
assert ra == rb, "slice records differ"
ga, gb = ma.pop("geometry"), mb.pop("geometry")
assert ga["size"] == gb["size"] and ga["direction"] == gb["direction"], (ga, gb)
for k in ("spacing", "origin"):
    assert all(abs(x - y) < 1e-4 for x, y in zip(ga[k], gb[k])), (k, ga[k], gb[k])
ma.pop("sources"), mb.pop("sources")
assert ma == mb, (ma, mb)
PYEOF

# dlk-infer: the same labels; a directory of series directories is a directory of cases.
prep_ct "$T/ds" "c1 train"
"$BIN/dlk-train" -q "$T/ds" -o "$T/run" --base-channels 8 --size 64 --batch 4 --epochs 3 --device cpu -j 2 || fail "train"
M=$T/run/final.dlkc
expect 0 "dlk-infer on the series" "$BIN/dlk-infer" -m "$M" "$T/ct" -o "$T/pred" --device cpu -v
expect 0 "dlk-infer on the NIfTI" "$BIN/dlk-infer" -m "$M" --image "$CT" --case nifti -o "$T/pred" --device cpu
mkdir -p "$T/cases" && cp -r "$T/ct" "$T/cases/patient_a"
expect 0 "dlk-infer on a directory of series" "$BIN/dlk-infer" -m "$M" "$T/cases" -o "$T/pred" --device cpu
"$PYX" - "$T/pred/ct.nii.gz" "$T/pred/nifti.nii.gz" "$T/pred/patient_a.nii.gz" <<'PYEOF' && pass "series and NIfTI give identical labels on the same grid" || fail "labels differ"
import sys, nibabel as nib, numpy as np
imgs = [nib.load(p) for p in sys.argv[1:]]
for i in imgs[1:]:
    assert np.array_equal(np.asarray(i.dataobj), np.asarray(imgs[0].dataobj))
    assert np.allclose(i.affine, imgs[0].affine, atol=1e-4), (i.affine, imgs[0].affine)
assert (np.asarray(imgs[0].dataobj) > 0).any()
PYEOF

# DICOM Segmentation: valid (dciodvfy), read back by highdicom equal to the NIfTI labels.
expect 0 "dlk-infer --format dicom-seg" "$BIN/dlk-infer" -m "$M" "$T/ct" --format dicom-seg -o "$T/seg" --device cpu
if command -v dciodvfy >/dev/null; then
  dciodvfy "$T/seg/ct.dcm" >"$T/dciodvfy" 2>&1
  grep -q "^Error" "$T/dciodvfy" && { fail "dciodvfy finds errors"; grep "^Error" "$T/dciodvfy" | head; } || pass "dciodvfy: no errors"
else
  echo "SKIP (one check): no dciodvfy (Debian's dicom3tools; scripts/install-deps installs it)"
fi
if "$PYX" -c "import highdicom" 2>/dev/null; then
  "$PYX" "$HERE/../dicom/check_seg.py" "$T/seg/ct.dcm" "$T/pred/ct.nii.gz" "$T/ct" "$SYNAPSE_CLASSES" \
    && pass "highdicom reads the SEG back as dlk's labels" || fail "the SEG read back differs"
else
  fail "no highdicom in $PYX"
fi
expect 0 "make -f examples/Makefile dicom-seg" make -C "$HERE/../.." -f examples/Makefile --no-print-directory dicom-seg T="$BIN" \
  SERIES_DIR="$T/ct" MODEL="$M" OUT="$T/mk" DEVICE=cpu
[ -s "$T/mk/seg/ct.dcm" ] && pass "the Makefile target writes the SEG" || fail "no $T/mk/seg/ct.dcm"
command -v dciodvfy >/dev/null && { contains "0 error(s)" "the Makefile target's SEG passes dciodvfy"; }
expect 2 "--format dicom-seg of a NIfTI" "$BIN/dlk-infer" -m "$M" --image "$CT" --format dicom-seg -o "$T/seg2" --device cpu
contains "--format dicom-seg needs DICOM input" "refused for NIfTI input"
expect 2 "--format dicom-seg to a stream" "$BIN/dlk-infer" -m "$M" "$T/ct" --format dicom-seg -o - --device cpu
[ ! -e "$T/seg2" ] && pass "nothing written for a refused SEG" || fail "a refused SEG left $T/seg2"
expect 0 "--format nrrd" "$BIN/dlk-infer" -m "$M" "$T/ct" --format nrrd -o "$T/nrrd" --device cpu
[ -s "$T/nrrd/ct.nrrd" ] && pass "--format nrrd writes CASE.nrrd" || fail "no $T/nrrd/ct.nrrd"

# An nnU-Net raw dataset whose images are series directories (CASE_0000/), labels NIfTI.
mkdir -p "$T/raw/imagesTr" "$T/raw/labelsTr"
cp -r "$T/ct" "$T/raw/imagesTr/ct01_0000"
cp "$SEG" "$T/raw/labelsTr/ct01.nii.gz"
printf '{"channel_names": {"0": "CT"}, "labels": {"background": 0, "organ": 1}, "file_ending": ".nii.gz"}\n' >"$T/raw/dataset.json"
expect 0 "dlk-prep --raw, a series per case" "$BIN/dlk-prep" --raw "$T/raw" --layout nnunet --label-map "1:1,*:0" -o "$T/rawds"
[ -s "$T/rawds/ct01.dlks" ] && pass "the layout's series became a case" || fail "no $T/rawds/ct01.dlks"

# A study of two series: listed (UID, description, modality, slices), then chosen.
$MAKE "$CT" "$T/study" --series-uid 1.2.826.0.1.3680043.8.498.11 --description "abdomen venous" || fail "series 1"
$MAKE "$CT" "$T/study" --series-uid 1.2.826.0.1.3680043.8.498.12 --description "abdomen arterial" --seed 2 || fail "series 2"
expect 2 "two series without --series" "$BIN/dlk-infer" -m "$M" "$T/study" -o "$T/two" --device cpu
contains "2 DICOM series; choose one with --series" "the choice is asked for"
contains '1.2.826.0.1.3680043.8.498.12  "abdomen arterial"  CT  30 file(s)' "each series listed with UID, description, modality, slices"
expect 0 "--series by description" "$BIN/dlk-infer" -m "$M" "$T/study" --series "abdomen arterial" -o "$T/two" --device cpu
expect 0 "--series by UID with dlk-prep" "$BIN/dlk-prep" --image "$T/study" --series 1.2.826.0.1.3680043.8.498.11 --case s -o "$T/s.dlks"
expect 2 "--series that matches none" "$BIN/dlk-prep" --image "$T/study" --series portal --case s -o "$T/bad.dlks"
contains "no series 'portal'" "an unknown series is named"

# Faults: exit 1, the directory and the reason named, nothing written.
fault() { # NAME "REASON" MAKE-OPTIONS...
  local name=$1 reason=$2
  shift 2
  $MAKE "$CT" "$T/$name" "$@" || { fail "write $name"; return; }
  expect 1 "$name" "$BIN/dlk-infer" -m "$M" "$T/$name" -o "$T/out-$name" --device cpu
  contains "$T/$name" "$name: the directory is named"
  contains "$reason" "$name: $reason"
  [ ! -e "$T/out-$name/$name.nii.gz" ] && pass "$name: no labels written" || fail "$name: labels written"
}
fault missing "1 slice(s) missing between" --drop 10
fault duplicated "a duplicated slice" --duplicate 10
fault tilted "gantry tilt of 10.00 degrees" --tilt 10
fault single "has one slice" --slices 1
fault multiframe "multi-frame image (2 frames)" --frames
fault jpeg "GDCM cannot decode its pixel data (transfer syntax 1.2.840.10008.1.2.4.90)" --broken-jpeg
fault turned "the slices' orientations differ" --turn 7
fault report "is not an image: a structured report" --report
mkdir -p "$T/none" && echo text >"$T/none/notes.txt"
expect 1 "a directory without DICOM" "$BIN/dlk-infer" -m "$M" --image "$T/none" -o "$T/out-none" --device cpu
contains "a directory without DICOM files" "a directory without DICOM: said"

# No patient tag in any message, verbose or not, nor in --stats.
"$BIN/dlk-infer" -v -m "$M" "$T/ct" -o "$T/pred2" --device cpu --stats "$T/stats.json" >"$T/log" 2>&1
cat "$T"/out* "$T/stats.json" >>"$T/log" 2>/dev/null
grep -qE "Test\^Volume|DLK-TEST-1|19700101" "$T/log" && fail "a patient tag was printed" || pass "no patient tag printed"
finish
