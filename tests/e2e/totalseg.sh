# A real CT through dlk-prep: Synapse label map, counts, streams, datasets, reproducibility.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
CT=$DATA/totalseg-ct-small/ct.nii.gz
SEG=$DATA/totalseg-ct-small/seg.nii.gz
prep() { "$BIN/dlk-prep" --image "$CT" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES "$@"; }

expect 0 "prepare the CT" prep --case ct01 --name ct -o "$T/ds"
expect 0 "check the dataset" "$BIN/dlk-prep" --check "$T/ds" -v
contains "30 slices  1x101x122 float16  9 classes" "shape and classes"
# Voxel counts per organ as ../shared/data/README.md gives them for the TotalSegmentator ids.
for pair in "aorta 997" "gallbladder 1333" "kidney_left 3676" "kidney_right 3947" "liver 38634" \
            "pancreas 644" "spleen 9452" "stomach 4675"; do
  set -- $pair
  if grep -Eq "class +[0-9]+ $1 +$2 voxels" "$T/out"; then pass "$1 has $2 voxels"; else fail "$1 should have $2 voxels"; fi
done
bg=$((122 * 101 * 30 - 997 - 1333 - 3676 - 3947 - 38634 - 644 - 9452 - 4675))
grep -Eq "class +0 background +$bg voxels" "$T/out" && pass "background has the rest ($bg)" || fail "background should have $bg"

# Byte-identical output: again, with one thread, and through a stream.
expect 0 "prepare again with one thread" prep --case ct01 --name ct -o "$T/ds2" -j 1
cmp -s "$T/ds/ct01.dlks" "$T/ds2/ct01.dlks" && pass "same bytes with 1 and all threads" || fail "outputs differ"
cmp -s "$T/ds/dataset.json" "$T/ds2/dataset.json" && pass "same dataset.json" || fail "dataset.json differs"
prep --case ct01 -o - >"$T/stream.dlks" 2>"$T/err"
cmp -s "$T/ds/ct01.dlks" "$T/stream.dlks" && pass "-o - writes the same shard to stdout" || fail "stream differs"

# A stream of two shards piped into --check.
expect 0 "stream of two shards into --check -" sh -c "{ cat '$T/stream.dlks'; '$BIN/dlk-prep' --image '$CT' --case ct02 --split-name test -o -; } | '$BIN/dlk-prep' --check -"
contains "ct01" "first shard of the stream"
contains "ct02" "second shard of the stream"
contains "unlabelled" "the unlabelled case says so"

# Adding cases; duplicates refused without --force; a mismatching run refused.
expect 0 "add a second case to the dataset" prep --case ct02 --split-name test -o "$T/ds"
grep -q '"test": 1' "$T/ds/dataset.json" && pass "dataset.json counts the test case" || fail "no test case in dataset.json"
cp "$T/ds/dataset.json" "$T/before.json"
expect 1 "the same case again" prep --case ct01 -o "$T/ds"
contains "case ct01 is already in the dataset (use --force to replace it)" "duplicate explained"
cmp -s "$T/before.json" "$T/ds/dataset.json" && pass "dataset.json untouched after the refusal" || fail "dataset.json changed"
expect 0 "the same case with --force" prep --case ct01 -o "$T/ds" --force
expect 1 "another normalization into the same dataset" prep --case ct03 --normalize zscore -o "$T/ds"
contains "does not match this run: normalization" "mismatch explained"

# Config files: the command line wins over --config.
printf 'normalize = zscore\nzstd-level = 5\n' >"$T/c.ini"
expect 0 "--config with a command-line override" prep --case ct01 --config "$T/c.ini" --normalize window -o "$T/ds3"
grep -q '"method": "window"' "$T/ds3/dataset.json" && pass "command line beat the config file" || fail "config file won"

# Bad input: missing file, label outside the map, geometry mismatch, bad class count.
expect 1 "missing image" "$BIN/dlk-prep" --image "$T/nope.nii.gz" --case x -o "$T/bad"
contains "nope.nii.gz" "missing file named"
expect 1 "label values outside the map" "$BIN/dlk-prep" --image "$CT" --label "$SEG" --label-map 52:1,0:0 --case x -o "$T/bad"
contains "not in the label map" "unmapped label explained"
contains "seg.nii.gz" "label file named"
if [ -d "$DATA/brats" ]; then
  expect 1 "label on another grid" "$BIN/dlk-prep" --image "$CT" --label "$DATA/brats/brats_2013_pat0003_1/OTMultiClass.nii.gz" --case x -o "$T/bad"
  contains "label geometry differs" "geometry mismatch explained"
  contains "size 122x101x30 vs 240x240x155" "the differing field is named"
fi
[ ! -e "$T/bad/x.dlks" ] && pass "no shard left by failed runs" || fail "a failed run left a shard"
ls "$T/bad" 2>/dev/null | grep -q tmp && fail "temporary files left" || pass "no temporaries left"
finish
