# Hostile and damaged input, failing disks and closed descriptors (issue 13's sweep): every tool
# exits 1 naming the file (2 for bad usage), never aborts or prints a stack trace, writes nothing
# outside -o, and leaves no temporary file behind. The damaged files are made here, from the shared
# CT, by byte surgery (CRC-valid shards, NIfTI headers with NaN, cut gzip streams...).
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python "numpy" "to craft damaged files"
D=$DATA/totalseg-ct-small
CT=$D/ct.nii.gz SEG=$D/seg.nii.gz
cd "$T"

# No abort, no trace, no temporary: checked after every failing run below.
clean() { # clean DIR...: no *.tmp-* file under any DIR, no core dump, no stack trace in $T/out
  local left
  left=$(find "$@" -name '*.tmp-*' 2>/dev/null | head -3)
  [ -z "$left" ] && pass "no temporary left in $*" || fail "temporaries left: $left"
  if grep -qE 'Exception raised from|frame #|terminate called|Aborted|core dumped|Segmentation' "$T/out"; then
    fail "an abort or a stack trace"; sed 's/^/    /' "$T/out"
  fi
}

# ---------------------------------------------------------------- crafting
# nifti_edit SRC DST OFFSET FORMAT VALUE...: patches header fields of a .nii.gz (struct format).
nifti_edit() {
  "$PY" - "$@" <<'PYEOF'
import gzip, struct, sys
src, dst, off, fmt = sys.argv[1:5]
vals = [float(v) if any(c in v for c in '.enai') else int(v) for v in sys.argv[5:]]
b = bytearray(gzip.open(src).read())
struct.pack_into('<' + fmt, b, int(off), *vals)
(gzip.open if dst.endswith('.gz') else open)(dst, 'wb').write(b)
PYEOF
}

"$BIN/dlk-prep" -q --image "$CT" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES \
  --case ct01 -o ds || { fail "prepare"; finish; }
"$BIN/dlk-prep" -q --image "$CT" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES \
  --case ct0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ -o - >long.dlks || fail "prepare a long id"
"$BIN/dlk-train" -q ds -o run --base-channels 8 --size 64 --batch 4 --epochs 1 --device cpu -j 2 || fail "train"
M=run/final.dlkc
"$BIN/dlk-infer" -q -m $M --image "$CT" --case c -o pred --device cpu || fail "segment"
SCORE=(--pred pred --truth pred)

# ---------------------------------------------------------------- F1: NaN and Inf in the sform
nifti_edit "$CT" nan.nii.gz 254 h 1                       # sform_code 1 ...
nifti_edit nan.nii.gz nan.nii.gz 280 f nan                # ... with srow_x[0] NaN
nifti_edit "$CT" inf.nii.gz 254 h 1
nifti_edit inf.nii.gz inf.nii.gz 300 f inf                # srow_y[1] infinite
for f in nan inf; do
  expect 1 "dlk-prep: $f in the sform" "$BIN/dlk-prep" --image $f.nii.gz --case c -o p-$f
  contains "$f.nii.gz': sform" "the error names the file and the sform"
  clean p-$f .
  expect 1 "dlk-infer: $f in the sform" "$BIN/dlk-infer" -m $M --image $f.nii.gz -o i-$f --device cpu
  contains "$f.nii.gz'" "the error names the file"
  clean i-$f
  expect 1 "dlk-score: $f in the sform" "$BIN/dlk-score" --pred $f.nii.gz --truth $f.nii.gz
  contains "sform" "the sform is named"
  expect 1 "dlk-report: $f in the sform" "$BIN/dlk-report" overlay --image $f.nii.gz --truth "$SEG" --pred "$SEG" -o o.png
  clean .
done

# ---------------------------------------------------------------- F6: damaged volumes
size=$(stat -c %s "$CT")
head -c $((size / 2)) "$CT" >half.nii.gz
head -c 200 "$CT" >cut200.nii.gz
cp "$CT" flip.nii.gz && chmod u+w flip.nii.gz
at=$((size * 2 / 3)); byte=$(od -An -tu1 -j $at -N1 flip.nii.gz | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 0x55 )))" | dd of=flip.nii.gz bs=1 seek=$at conv=notrunc status=none
"$PY" -c "import gzip,sys; d=gzip.open(sys.argv[1]).read(); open('half.nii','wb').write(d[:len(d)//2])" "$CT"
nifti_edit "$CT" dim0.nii.gz 44 h 0                       # dim[2] = 0
nifti_edit "$CT" voxoff.nii.gz 108 f 1e9                  # vox_offset = 1e9
printf 'ObjectType = Image\nNDims = 3\nDimSize = 64 64 64\nElementType = MET_SHORT\nElementDataFile = self.mhd\n' >self.mhd
printf 'ObjectType = Image\nNDims = 3\nDimSize = 64 64 64\nElementType = MET_SHORT\nElementDataFile = LOCAL\nxx' >short.mha
for f in half.nii.gz cut200.nii.gz flip.nii.gz half.nii dim0.nii.gz voxoff.nii.gz self.mhd short.mha; do
  expect 1 "dlk-prep refuses $f" "$BIN/dlk-prep" --image $f --case c -o "p-$f"
  contains "$f'" "the error names $f"
  [ -z "$(ls "p-$f" 2>/dev/null)" ] && pass "no shard from $f" || fail "dlk-prep wrote $(ls "p-$f")"
  clean .
done
expect 1 "a .mhd naming itself as its data file" "$BIN/dlk-prep" --image self.mhd --case c -o p-self
contains "names the header file itself" "the self-reference is named"

# ---------------------------------------------------------------- F2: case ids as paths
for id in '../../x' "$T/abs" '.hidden'; do
  shard_edit long.dlks evil.dlks "re.sub(r'\"case\": *\"ct0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\"', '\"case\": \"$id\"', m)"
  expect 1 "--check refuses case id '$id'" "$BIN/dlk-prep" --check evil.dlks
  contains "case id" "the error is about the case id"
  mkdir -p escape/sub
  expect 1 "dlk-infer refuses case id '$id'" "$BIN/dlk-infer" -m $M evil.dlks -o escape/sub --device cpu --probabilities
  [ -z "$(find "$T" -maxdepth 2 -name 'x*' -newer evil.dlks)" ] && [ ! -e "$T/abs.nii.gz" ] && [ ! -e "$T/abs.probs.dlks" ] &&
    pass "nothing written outside -o" || fail "dlk-infer wrote outside -o"
  clean escape
done

# ---------------------------------------------------------------- F9: one case twice
cat ds/ct01.dlks ds/ct01.dlks >twice.dlks
expect 1 "--check refuses a case twice in a file" "$BIN/dlk-prep" --check twice.dlks
contains "appears twice" "the duplicate is named"
expect 1 "--check refuses a case twice in a stream" sh -c "'$BIN/dlk-prep' --check - <twice.dlks"
expect 1 "dlk-infer refuses a case twice" "$BIN/dlk-infer" -m $M twice.dlks -o out2 --device cpu
contains "appears twice" "the duplicate is named"

# ---------------------------------------------------------------- F8: labels beyond the classes
mkdir -p p200
"$PY" -c "
import gzip, struct
b = bytearray(gzip.open('pred/c.nii.gz').read())
b[int(struct.unpack_from('<f', b, 108)[0]) + 1000] = 200
gzip.open('p200/c.nii.gz', 'wb').write(b)"
expect 1 "a predicted label of 200 is not a class" "$BIN/dlk-score" --pred p200 --truth pred
contains "label 200 at voxel" "the voxel and value are named"
contains "p200/c.nii.gz'" "the prediction file is named"
expect 1 "nor against a dataset naming 9 classes" "$BIN/dlk-score" --pred p200 --truth pred --classes $SYNAPSE_CLASSES
contains "is not one of the 9 classes (0..8)" "the classes are named"
# A CRC-valid shard whose labels run past its class list, in a dataset that agrees with it.
mkdir -p few
shard_edit ds/ct01.dlks few/ct01.dlks "re.sub(r'\"classes\": *\[[^]]*\]', '\"classes\": [\"background\", \"aorta\"]', re.sub(r'\"label_counts\": *\[[^]]*\]', '\"label_counts\": []', m))"
"$PY" - <<'PYEOF'
import json
d = json.load(open('ds/dataset.json'))
d.pop('checksum'); d['version'] = 1; d['classes'] = ['background', 'aorta']
for c in d['cases']: c['label_counts'] = []
json.dump(d, open('few/dataset.json', 'w'))
PYEOF
expect 1 "dlk-train on labels beyond the classes" "$BIN/dlk-train" few -o run-few --base-channels 8 --size 64 --epochs 1 --device cpu
contains "is not a class id" "the label is named"
contains "few/ct01.dlks': case ct01: slice" "the file and slice are named"
clean run-few few
expect 1 "--check finds labels beyond the classes" "$BIN/dlk-prep" --check few

# A shard file is a reference like any other (random access by case id).
expect 0 "a shard file as --truth" "$BIN/dlk-score" --pred ds/ct01.dlks --truth ds/ct01.dlks -q

# ---------------------------------------------------------------- F7: data prepared otherwise
"$BIN/dlk-prep" -q --image "$CT" --case w1 --window -160,240 -o other-window || fail "prep with another window"
expect 1 "dlk-infer refuses another window" "$BIN/dlk-infer" -m $M other-window -o out3 --split all --device cpu
contains "window [-160, 240] vs [-125, 275]" "the windows are named"
[ ! -e out3 ] && pass "a refused input leaves no output directory" || fail "dlk-infer made out3"
"$BIN/dlk-prep" -q --image "$CT" --case c3 --classes background,liver,spleen -o three || fail "prep with 3 classes"
expect 1 "dlk-infer refuses a 3-class dataset with a 9-class model" "$BIN/dlk-infer" -m $M three -o out4 --split all --device cpu
contains "has classes [background, liver, spleen]" "the classes are named"

# ---------------------------------------------------------------- a checkpoint with absurd shapes
# CRC-valid, its first tensor claiming 2^40 elements: refused before anything is allocated.
"$PY" - $M huge.dlkc <<'PYEOF'
import re, struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack_from('<I', b, 16)[0]
m = b[24:24 + n].decode()
m = re.sub(r'"tool":"[^"]*"', '"tool":""', m)
m = re.sub(r'"shape":\[[0-9,]*\]', '"shape":[1099511627776]', m, count=1).encode()
assert len(m) <= n
b[24:24 + n] = m + b' ' * (n - len(m))
struct.pack_into('<I', b, 20, zlib.crc32(bytes(b[:20]) + bytes(b[24:24 + n])) & 0xffffffff)
open(sys.argv[2], 'wb').write(b)
PYEOF
expect 1 "dlk-infer refuses a tensor of 2^40 elements" bash -c "ulimit -v 4000000; exec '$BIN/dlk-infer' -m huge.dlkc --image '$CT' -o huge --device cpu"
contains "huge.dlkc'" "the checkpoint is named"
contains "tensor" "the tensor is named"
clean .

# ---------------------------------------------------------------- dataset.json edited
cp -r ds edited
sed -i 's/"slices": 30/"slices": 29/' edited/dataset.json
expect 1 "an edited dataset.json is refused" "$BIN/dlk-train" edited -o run-edited --epochs 1 --device cpu
contains "checksum mismatch" "the checksum names the edit"

# ---------------------------------------------------------------- F3: a write that fails
# RLIMIT_FSIZE 0 makes every write fail (EFBIG), as a full disk would: ITK's NIfTI writer
# does not notice, dlk-infer must.
# (Its messages go through a pipe: the limit applies to regular files only.)
expect 1 "dlk-infer with writes failing" bash -c "trap '' XFSZ; (ulimit -f 0; exec '$BIN/dlk-infer' -m $M --image '$CT' --case c -o full --device cpu) 2>&1 | cat; exit \${PIPESTATUS[0]}"
contains "cannot write" "the failed write is reported"
[ ! -e full/c.nii.gz ] && pass "no label file under the final name" || fail "a cut-off full/c.nii.gz"
clean full

# ---------------------------------------------------------------- F4: stdout closed
expect 0 "dlk-prep with stdout closed" sh -c "'$BIN/dlk-prep' -q --image '$CT' --case c1 -o closed >&-"
[ -f closed/c1.dlks ] && pass "the shard has its name" || fail "no closed/c1.dlks"
expect 0 "its dataset passes --check" "$BIN/dlk-prep" --check closed
clean closed
expect 1 "dlk-score with stdout closed loses its table" sh -c "'$BIN/dlk-score' --pred pred --truth pred --csv s.csv >&-"
contains "standard output is closed" "the lost output is reported"
[ -s s.csv ] && pass "the CSV has its name" || fail "no s.csv"
expect 0 "dlk-infer with stdout closed" sh -c "'$BIN/dlk-infer' -q -m $M --image '$CT' --case c -o closed-infer --device cpu >&-"
[ -f closed-infer/c.nii.gz ] && pass "its labels have their name" || fail "no closed-infer/c.nii.gz"
expect 1 "a stream to a closed stdout" sh -c "'$BIN/dlk-prep' -q --image '$CT' --case c1 -o - >&-"
contains "standard output is closed" "said so"
clean .

# ---------------------------------------------------------------- F5: special files and links
mkfifo fifo
timeout 60 cat fifo >from-fifo 2>/dev/null &
expect 0 "--csv to a FIFO" "$BIN/dlk-score" "${SCORE[@]}" --csv fifo -q
sleep 1
[ -p fifo ] && pass "the FIFO is still a FIFO" || fail "the FIFO was replaced"
grep -q '^case,' from-fifo && pass "the CSV went through the FIFO" || fail "nothing came through the FIFO"
# A copy of /dev/full's node where root may make one; root that cannot must not risk the system's
# (a regression would replace it); others cannot replace it.
if mknod fulldev c 1 7 2>/dev/null; then full=$T/fulldev; elif [ "$(id -u)" != 0 ]; then full=/dev/full; else full=; fi
if [ -n "$full" ]; then
  expect 1 "--csv to a full device fails" "$BIN/dlk-score" "${SCORE[@]}" --csv $full -q
  contains "$full" "the device is named"
  [ -c $full ] && pass "$full is still a device" || fail "$full was replaced"
else
  echo "note: root without mknod: the full-device check is skipped"
fi
echo old >target.csv && ln -s target.csv link.csv
expect 0 "--csv to a symbolic link" "$BIN/dlk-score" "${SCORE[@]}" --csv link.csv -q
[ -L link.csv ] && grep -q '^case,' target.csv && pass "the link stays, its target is written" || fail "the link was replaced"

# ---------------------------------------------------------------- F10: dlk-prep's commit
# A rename that fails (EIO) at dataset.json, after the shards: the old dataset stays whole.
if strace -o /dev/null true 2>/dev/null; then
  mkdir -p raw/img raw/label
  for n in 0002 0003; do ln -s "$CT" raw/img/img$n.nii.gz; ln -s "$SEG" raw/label/label$n.nii.gz; done
  two=(--dataset raw --layout synapse --label-map totalseg-synapse --classes $SYNAPSE_CLASSES)
  cp -r ds commit && cp commit/dataset.json before.json
  expect 1 "dlk-prep with the dataset.json rename failing" strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:error=EIO:when=3 \
    "$BIN/dlk-prep" -q -j 1 "${two[@]}" -o commit
  cmp -s before.json commit/dataset.json && pass "dataset.json unchanged" || fail "dataset.json changed"
  expect 0 "the dataset still passes --check" "$BIN/dlk-prep" --check commit
  [ "$(ls commit)" = "$(ls ds)" ] && pass "no shard left beside it" || fail "left: $(ls commit)"
  clean commit
  # A new dataset whose second shard cannot be renamed: nothing at all is left.
  expect 1 "a new dataset with its second rename failing" strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:error=EIO:when=2 \
    "$BIN/dlk-prep" -q -j 1 "${two[@]}" -o fresh
  [ -z "$(ls fresh 2>/dev/null | grep -v '^\.')" ] && pass "nothing left of the new dataset" || fail "left: $(ls fresh)"
  # Preparing a case again: the new shard never replaces the one the current dataset.json lists.
  cp -r ds again
  expect 0 "prepare ct01 again" "$BIN/dlk-prep" -q --image "$CT" --label "$SEG" --label-map totalseg-synapse \
    --classes $SYNAPSE_CLASSES --case ct01 -o again --force
  expect 0 "the replaced dataset passes --check" "$BIN/dlk-prep" --check again
  [ "$(ls again | grep -c dlks)" = 1 ] && pass "one shard, the old one removed" || fail "shards: $(ls again)"
else
  echo "note: no usable strace: the failing-rename checks are skipped"
fi

# ---------------------------------------------------------------- issue 25: sizes from headers
# A model trained at a target spacing (3 mm, the CT's own): dlk-infer resamples every scan to it,
# so a header's spacing sizes the resampled slices; far-off spacings are refused, naming the file,
# before anything of that size is allocated (4 GB of address space would not hold one).
"$BIN/dlk-prep" -q --image "$CT" --label "$SEG" --label-map totalseg-synapse --classes $SYNAPSE_CLASSES --case s1 \
  --spacing 3,3 -o dsp || fail "prepare at 3 mm"
"$BIN/dlk-train" -q dsp -o runsp --base-channels 8 --size 64 --batch 4 --epochs 1 --max-steps 1 --device cpu -j 2 ||
  fail "train at 3 mm"
for sp in 5000 1e10 1e30; do
  nifti_edit "$CT" sp$sp.nii.gz 252 hh 1 0                # the qform (identity) instead of the sform ...
  nifti_edit sp$sp.nii.gz sp$sp.nii.gz 80 ff $sp $sp      # ... with pixdim[1], pixdim[2] as the spacing
  expect 1 "dlk-infer: a spacing of $sp mm" bash -c "ulimit -v 4000000; exec '$BIN/dlk-infer' -m runsp/final.dlkc --image sp$sp.nii.gz -o i-sp$sp --device cpu"
  contains "sp$sp.nii.gz'" "the input is named"
  contains "4096 at most per side" "the limit is named"
  [ ! -e i-sp$sp ] && pass "no output directory" || fail "dlk-infer made i-sp$sp"
  clean .
done
for sp in 0.001 1e-6 1e-30; do
  expect 2 "dlk-prep --spacing $sp,$sp" "$BIN/dlk-prep" --image "$CT" --case c --spacing $sp,$sp -o p-sp
  contains "--spacing $sp,$sp" "the option is named"
done
# Within the range, but 122 columns of 3 mm at 0.05 mm would be 7320: refused, naming the scan.
expect 1 "dlk-prep --spacing 0.05,0.05 on a 3 mm scan" "$BIN/dlk-prep" --image "$CT" --case c --spacing 0.05,0.05 -o p-sp
contains "ct.nii.gz': case c: --spacing 0.05,0.05" "the scan and option are named"
contains "4096 at most per side" "the limit is named"
[ -z "$(ls p-sp 2>/dev/null)" ] && pass "nothing written" || fail "p-sp holds $(ls p-sp)"
# A spacing of 0 is no spacing (readers replace it by 1 mm): an error naming the field.
nifti_edit "$CT" pix0.nii.gz 80 f 0
expect 1 "dlk-prep: pixdim[1] = 0" "$BIN/dlk-prep" --image pix0.nii.gz --case c -o p-pix0
contains "pix0.nii.gz': pixdim[1] is 0" "the field is named"

# ---------------------------------------------------------------- issue 25: probability maps
# All or nothing: when one class's map cannot be written, the set already in DIR stays as it was
# (no map of this run replaces one of the older set) and no label map appears either.
expect 0 "probability maps" "$BIN/dlk-infer" -m $M --image "$CT" --case c -o pm1 --probability-maps maps --device cpu
[ "$(ls maps | wc -l)" = 9 ] && pass "one map per class" || fail "maps: $(ls maps)"
inode=$(stat -c %i maps/c_background.nii.gz)
rm maps/c_kidney_left.nii.gz && mkdir maps/c_kidney_left.nii.gz
expect 1 "a class's map that cannot be written" "$BIN/dlk-infer" -m $M --image "$CT" --case c -o pm2 --probability-maps maps --device cpu
contains "c_kidney_left.nii.gz': is a directory" "the map is named"
[ "$(stat -c %i maps/c_background.nii.gz)" = "$inode" ] && pass "the older maps stay (the first class's untouched)" ||
  fail "maps/c_background.nii.gz was replaced"
[ ! -e pm2/c.nii.gz ] && pass "no label map without its probability maps" || fail "pm2/c.nii.gz written"
clean maps pm2
# A link in DIR stays a link; its target gets the map (as README says of every output).
rmdir maps/c_kidney_left.nii.gz
echo old >elsewhere.nii.gz && rm maps/c_liver.nii.gz && ln -s ../elsewhere.nii.gz maps/c_liver.nii.gz
expect 0 "probability maps over a link" "$BIN/dlk-infer" -m $M --image "$CT" --case c -o pm3 --probability-maps maps --device cpu
[ -L maps/c_liver.nii.gz ] && [ "$(stat -c %s elsewhere.nii.gz)" -gt 100 ] && pass "the link stays, its target holds the map" ||
  fail "the link in the maps directory was replaced"

# ---------------------------------------------------------------- leftovers of a killed run
host=$(uname -n | tr -c 'A-Za-z0-9\n' '_' | cut -c1-40)
dead=$(sh -c 'echo $$')
touch "ds/ct09.dlks.tmp-$host-$dead-AbC123" "ds/x.tmp-otherhost-$dead-AbC123"
expect 0 "the next run into the directory" "$BIN/dlk-prep" --image "$CT" --label "$SEG" --label-map totalseg-synapse \
  --classes $SYNAPSE_CLASSES --case ct02 -o ds
contains "left by an earlier run that was killed" "the leftover is reported"
[ ! -e "ds/ct09.dlks.tmp-$host-$dead-AbC123" ] && pass "and removed" || fail "the leftover stays"
[ -e "ds/x.tmp-otherhost-$dead-AbC123" ] && pass "another host's temporary is left alone" || fail "another host's file removed"
finish
