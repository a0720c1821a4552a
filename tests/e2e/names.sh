# Names and numbers from other people's files (issue 25, points 6 to 8): class and channel names
# that would break a CSV, a Markdown or HTML table or a terminal are refused wherever they enter
# (a CRC-valid shard, dataset.json, an nnU-Net dataset.json, --classes, --channels), a stray label
# in a reference is an error rather than 192 extra classes, and dlk-report refuses a score file
# with values dlk-score cannot write. What dlk-score writes, in every mode, still reads; tables
# escape what they show. Needs no LibTorch: dlk-report's checks run where it is built.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python "numpy, nibabel" "to craft the files"
D=$DATA/totalseg-ct-small
cd "$T"

# ---------------------------------------------------------------- class names in a shard
# A shard with room in its metadata for a name of 5000 characters: its sources are long paths
# (links in 14 nested folders of 250 characters), which the edits below replace by short ones.
long=.
for i in $(seq 14); do long=$long/$(printf 'd%.0s' $(seq 250)); done
mkdir -p "$long" && ln -s "$D/ct.nii.gz" "$long/ct.nii.gz" && ln -s "$D/seg.nii.gz" "$long/seg.nii.gz"
"$BIN/dlk-prep" -q --image "$long/ct.nii.gz" --label "$long/seg.nii.gz" --label-map totalseg-synapse \
  --classes $SYNAPSE_CLASSES --case ct01 -o ds || { fail "prepare"; finish; }
# $rename: the metadata with class 1 (aorta) named $NAME (Python escapes decoded: \n, \x00) and
# short sources.
rename="json.dumps(dict(json.loads(m), sources={'images': ['ct.nii.gz'], 'label': 'seg.nii.gz'},
  classes=[codecs.decode(os.environ['NAME'], 'unicode_escape') if c == 'aorta' else c for c in json.loads(m)['classes']]))"
NAME=aorta2 shard_edit ds/ct01.dlks ok.dlks "$rename"
expect 0 "--check passes the edited shard with a plain name (the edit is sound)" "$BIN/dlk-prep" --check ok.dlks
i=0
bad_name() { # bad_name WHAT NAME SHOWN: a shard whose class 1 is NAME fails --check, showing it as SHOWN
  i=$((i + 1))
  NAME=$2 shard_edit ds/ct01.dlks bad$i.dlks "$rename"
  expect 1 "--check refuses a class name with $1" "$BIN/dlk-prep" --check bad$i.dlks
  contains "bad$i.dlks': metadata: classes: $3" "the shard is named, the name shown printably ($1)"
}
bad_name "a newline" 'aorta\nliver' "class name 'aorta\\x0aliver' may hold only"
bad_name "a comma" 'aorta,liver' "class name 'aorta,liver' may hold only"
bad_name "a '|'" 'aorta|liver' "class name 'aorta|liver' may hold only"
bad_name "HTML" '<script>alert(1)</script>' "class name '<script>alert(1)</script>' must start with a letter or digit"
bad_name "a NUL" 'aorta\x00liver' "class name 'aorta\\x00liver' may hold only"
bad_name "a formula" '=HYPERLINK("http://example.com","x")' "class name '=HYPERLINK(\"http://example.com\",\"x\")' must start"
bad_name "5000 characters" "$(printf 'a%.0s' $(seq 5000))" "class name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is 5000 characters long (64 at most)"
[ "$(wc -c <"$T/out")" -lt 1000 ] && pass "the message does not repeat 5000 characters" || fail "a message of $(wc -c <"$T/out") bytes"
# A channel name.
NAME=x shard_edit ds/ct01.dlks chan.dlks "json.dumps(dict(json.loads(m), sources={'images': ['ct.nii.gz'], 'label': None}, channels=['CT\n<b>']))"
expect 1 "--check refuses a channel name with a newline" "$BIN/dlk-prep" --check chan.dlks
contains "channel name 'CT\\x0a<b>'" "the channel name is shown printably"
# dataset.json (version 1: no checksum to redo).
mkdir -p dsbad && cp ds/ct01.dlks dsbad/
"$PY" - <<'PYEOF'
import json
d = json.load(open('ds/dataset.json'))
d.pop('checksum'); d['version'] = 1; d['classes'][1] = 'aorta|liver'
json.dump(d, open('dsbad/dataset.json', 'w'))
PYEOF
expect 1 "--check refuses a dataset.json with a class name holding '|'" "$BIN/dlk-prep" --check dsbad
contains "dsbad/dataset.json': classes: class name 'aorta|liver'" "dataset.json is named"

# ---------------------------------------------------------------- names given to dlk-prep
expect 2 "--classes with '<'" "$BIN/dlk-prep" --image "$D/ct.nii.gz" --label "$D/seg.nii.gz" --label-map totalseg-synapse \
  --classes "background,<b>aorta" --case x -o o1
contains "--classes: class name '<b>aorta' must start with a letter or digit" "the option and the name are named"
expect 2 "--channels with '='" "$BIN/dlk-prep" --image "$D/ct.nii.gz" --channels "=1+1" --case x -o o2
contains "--channels: channel name '=1+1'" "the option is named"
[ ! -e o1 ] && [ ! -e o2 ] && pass "nothing written after the usage errors" || fail "output written"
# An nnU-Net raw dataset: MSD's names with spaces and hyphens pass, a '|' fails naming dataset.json.
mkdir -p nn/imagesTr nn/labelsTr
ln -s "$D/ct.nii.gz" nn/imagesTr/ct_0000.nii.gz
SEG=$D/seg.nii.gz "$PY" - <<'PYEOF'
import json, os, nibabel as nib, numpy as np
s = nib.load(os.environ['SEG'])
a = (np.asarray(s.dataobj) == 5).astype(np.uint8)  # the liver as class 1
nib.save(nib.Nifti1Image(a, s.affine, s.header), 'nn/labelsTr/ct.nii.gz')
json.dump({'channel_names': {'0': 'CT'}, 'labels': {'background': 0, 'non-enhancing tumor': 1},
           'numTraining': 1, 'file_ending': '.nii.gz'}, open('nn/dataset.json', 'w'))
PYEOF
expect 0 "an nnU-Net dataset whose label is 'non-enhancing tumor'" "$BIN/dlk-prep" -q --raw nn --preset nnunet -o nnout
grep -q '"non-enhancing tumor"' nnout/dataset.json && pass "the name is kept" || fail "classes of nnout: $(grep -A3 '"classes"' nnout/dataset.json)"
sed -i 's/non-enhancing tumor/tumor|edema/' nn/dataset.json
expect 1 "an nnU-Net dataset whose label name holds '|'" "$BIN/dlk-prep" -q --raw nn --preset nnunet -o nnout2
contains "nn/dataset.json': labels: class name 'tumor|edema'" "its dataset.json is named"
[ ! -e nnout2/dataset.json ] && pass "no dataset written" || fail "nnout2 written"

# ---------------------------------------------------------------- a stray label in the reference
# The Synapse organs as class ids 0..8 (the README's map), as plain volumes: nothing names the
# classes, so dlk-score counts them from the references' labels.
mkdir -p pred truth stray
SEG=$D/seg.nii.gz "$PY" - <<'PYEOF'
import os, nibabel as nib, numpy as np
s = nib.load(os.environ['SEG'])
raw = np.asarray(s.dataobj)
a = np.zeros(raw.shape, np.uint8)
for r, c in {52: 1, 4: 2, 3: 3, 2: 4, 5: 5, 7: 6, 1: 7, 6: 8}.items():
    a[raw == r] = c
save = lambda x, p: nib.save(nib.Nifti1Image(x, s.affine, s.header), p)
save(a, 'pred/ct01.nii.gz')
save(a, 'truth/ct01.nii.gz')
assert a[60, 50, 15] != 200
a[60, 50, 15] = 200  # one stray voxel
save(a, 'stray/ct01.nii.gz')
PYEOF
expect 0 "a reference equal to the prediction" "$BIN/dlk-score" --pred pred --truth truth
grep -qE "^mean +1\.0000 " "$T/out" && pass "mean Dice 1 over the 8 organs" || { fail "mean Dice"; cat "$T/out"; }
expect 1 "a reference with one voxel of label 200" "$BIN/dlk-score" --pred pred --truth stray
contains "stray/ct01.nii.gz': reference of case ct01: label 200 at voxel (60, 50, 15) is not one of the 9 classes (0..8)" \
  "the reference file, the voxel and the 9 classes are named"
contains "no label from 9 to 199" "the gap is named"
expect 1 "also as a single file" "$BIN/dlk-score" --pred pred/ct01.nii.gz --truth stray/ct01.nii.gz
expect 0 "with --classes naming 201 classes it scores" "$BIN/dlk-score" --pred pred --truth stray \
  --classes "$(printf 'background'; for c in $(seq 200); do printf ',c%d' $c; done)"
# Sparse labels are classes still (a weak model's prediction as reference: the liver alone, 5);
# a 0/255 mask is not 256 classes.
mkdir -p sparse mask
SEG=$D/seg.nii.gz "$PY" - <<'PYEOF'
import os, nibabel as nib, numpy as np
s = nib.load(os.environ['SEG'])
liver = np.asarray(s.dataobj) == 5
save = lambda x, p: nib.save(nib.Nifti1Image(x.astype(np.uint8), s.affine, s.header), p)
save(liver * 5, 'sparse/ct01.nii.gz')
save(liver * 255, 'mask/ct01.nii.gz')
PYEOF
expect 0 "a reference holding labels 0 and 5 only" "$BIN/dlk-score" --pred sparse --truth sparse
grep -qE "^class5 +1\.0000 " "$T/out" && ! grep -q "^class6" "$T/out" && pass "scored as 6 classes, the liver's Dice 1" \
  || { fail "sparse labels"; cat "$T/out"; }
expect 1 "a 0/255 mask" "$BIN/dlk-score" --pred mask --truth mask
contains "mask/ct01.nii.gz': reference of case ct01: label 255 at voxel" "the mask and its 255 are named"

# ---------------------------------------------------------------- dlk-score's CSV and JSON
# Every mode, with a missed organ (gallbladder removed from the prediction) and a class that no
# case holds (a tenth name): the special values of each convention appear in the JSON.
"$PY" - <<'PYEOF'
import nibabel as nib, numpy as np
s = nib.load('pred/ct01.nii.gz')
a = np.asarray(s.dataobj).copy()
a[a == 2] = 0
nib.save(nib.Nifti1Image(a, s.affine, s.header), 'pred/ct01.nii.gz')
PYEOF
for mode in transunet medpy monai nnunet; do
  unit=$([ $mode = transunet ] && echo voxel || echo mm)
  expect 0 "dlk-score --mode $mode" "$BIN/dlk-score" --pred pred --truth truth --mode $mode --distance-unit $unit \
    --classes $SYNAPSE_CLASSES,extra --keep-largest all --csv s-$mode.csv --json s-$mode.json
done
"$PY" - s-*.csv <<'PYEOF' && pass "the CSVs parse as RFC 4180: 14 fields a row, 9 rows" || fail "CSV"
import csv, sys
for f in sys.argv[1:]:
    rows = list(csv.reader(open(f, newline='')))
    assert len(rows) == 10 and all(len(r) == 14 for r in rows), (f, rows)
PYEOF
grep -q '"inf"' s-monai.json && grep -q '"dsc": null' s-nnunet.json && pass "MONAI's inf and nnU-Net's NaN are in the JSON" \
  || fail "no special values in the JSON"

# ---------------------------------------------------------------- dlk-report reading score files
if [ ! -x "$BIN/dlk-report" ]; then
  echo "note: no dlk-report in this build (it needs LibTorch): its checks are left out"
  finish
fi
for mode in transunet medpy monai nnunet; do
  expect 0 "dlk-report table reads dlk-score's $mode JSON" "$BIN/dlk-report" table s-$mode.json
done
contains "| Gallb. |" "the table has its columns"
edit() { # edit OUT PY-STATEMENT: s-transunet.json with j changed
  "$PY" -c "import json, sys; j = json.load(open('s-transunet.json')); $2; json.dump(j, open('$1', 'w'))"
}
edit dsc-neg.json "j['class_mean']['aorta']['dsc'] = -5"
expect 1 "a DSC of -5" "$BIN/dlk-report" table dsc-neg.json
contains "dsc-neg.json': class_mean.aorta.dsc: -5 is not a number in [0, 1] or null" "the file and the JSON path are named"
edit dsc-abc.json "j['class_mean']['aorta']['dsc'] = 'abc'"
expect 1 "a DSC of \"abc\"" "$BIN/dlk-report" table dsc-abc.json
contains "dsc-abc.json': class_mean.aorta.dsc: \"abc\" is not a number in [0, 1] or null" "the file and the JSON path are named"
edit mean-neg.json "j['mean_dsc'] = -5"
expect 1 "a mean DSC of -5" "$BIN/dlk-report" table s-transunet.json mean-neg.json
contains "mean-neg.json': mean_dsc: -5" "the second file is named"
edit hd-neg.json "j['cases'][0]['classes']['liver']['hd95'] = -1"
expect 1 "a negative HD95 of a case" "$BIN/dlk-report" heatmap hd-neg.json --name S/64 -o h.svg
contains "hd-neg.json': cases[0].classes.liver.hd95: -1 is not a distance" "the JSON path is named"
edit name-pipe.json "j['class_mean']['a|b'] = j['class_mean'].pop('aorta')"
expect 1 "a class name with '|' in a score file" "$BIN/dlk-report" table name-pipe.json
contains "name-pipe.json': class_mean: class name 'a|b'" "the name is refused"
[ ! -e h.svg ] && pass "no heatmap written" || fail "h.svg written"

# Names dlk-report is given are escaped: one cell in Markdown, text in HTML, no formula in CSV.
mkdir -p "run<script>"
cp s-transunet.json "run<script>/scores.json"
expect 0 "a table of a run named with HTML and '|'" "$BIN/dlk-report" table "run<script>/scores.json" \
  --name 'A|B <script>alert(1)</script>' -o t.md
"$PY" - <<'PYEOF' && pass "every line of the Markdown has as many cells as the header" || { fail "Markdown cells"; cat t.md; }
import re
lines = open('t.md').read().splitlines()
cells = [len(re.findall(r'(?<!\\)\|', l)) for l in lines]
assert len(set(cells)) == 1, cells
assert '<script>' not in open('t.md').read() and 'A\\|B &lt;script&gt;' in lines[2], lines[2]
PYEOF
expect 0 "dlk-report html takes that table" "$BIN/dlk-report" html t.md "run<script>" -o r.html
grep -q '<td>A|B &lt;script&gt;alert(1)&lt;/script&gt;</td>' r.html && ! grep -q '<script>alert' r.html \
  && pass "the HTML shows the name as text" || fail "HTML: $(grep -o '<td>A[^/]*' r.html | head -2)"
expect 0 "CSV table" "$BIN/dlk-report" table s-transunet.json --name '=HYPERLINK("http://x","y")' --format csv -o t.csv
"$PY" - <<'PYEOF' && pass "the CSV's method cell is text, not a formula" || { fail "CSV"; cat t.csv; }
import csv
rows = list(csv.reader(open('t.csv', newline='')))
assert rows[1][0] == '\'=HYPERLINK("http://x","y")' and len(rows[1]) == len(rows[0]), rows
PYEOF
finish
