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
    pair(f"{s}/img/img{n:04d}.nii.gz", f"{s}/label/label{n:04d}.nii.gz", [8, 4, 6, 1, 13, 11])  # 11: pancreas (Fig. 10)
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
contains "| Swin-Unet (published) |" "and the published ones"
contains "Kid(L)" "organs abbreviated as the paper does"
[ -s "$T/syn/S/scores.csv" ] && [ "$(grep -c '^case0' "$T/syn/S/scores.csv")" = $((12 * 8)) ] && pass "12 test cases x 8 classes scored" || fail "scores.csv"
expect 0 "make synapse again does nothing" make -f examples/Makefile synapse-steps T="$BIN" SYNAPSE="$T/RawData" SYNAPSE_OUT="$T/syn" \
  VARIANTS=S DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper $TINY"
grep -q "dlk-train" "$T/out" && fail "the second run retrained" || pass "incremental: nothing rerun"
expect 0 "make acdc (tiny)" make -f examples/Makefile acdc-steps T="$BIN" ACDC="$T/ACDC/training" ACDC_OUT="$T/acdc" \
  VARIANTS=S DEVICE=cpu ACDC_TRAIN="--config acdc-paper $TINY"
contains "| RV | Myo | LV |" "Table 3 has RV, Myo, LV"
contains "| DLKUNet-M (published) |" "the published ACDC rows"
[ "$(grep -c '^patient' "$T/acdc/S/scores.csv")" = $((40 * 3)) ] && pass "40 test volumes x 3 classes scored" || fail "acdc scores.csv"
# Tables 4 and 5 and Fig. 5 from the same prepared Synapse data, each run at a tiny size of its
# own (the real runs take theirs from the preset and RUN_NAME).
TINYL="--epochs 1 --base-channels 4 --batch 16 -j 2"
SYN=(T="$BIN" SYNAPSE="$T/RawData" SYNAPSE_OUT="$T/syn" DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper $TINYL"
     RUN_L="--variant L --size 32" RUN_L-512="--variant L --size 48" RUN_L-5DW="--variant L --dw-kernel 5 --size 32"
     RUN_L-7DW="--variant L --dw-kernel 7 --size 32" RUN_L-LKA1="--variant L --lka-kernel 3 --size 32"
     RUN_L-LKA2="--variant L --lka-dilated-kernel 5 --size 32" RUN_L-ordinary="--variant L --loss ordinary --size 32")
expect 0 "make table4 table5 fig5 (tiny)" make -f examples/Makefile table4-steps table5-steps fig5-steps "${SYN[@]}"
[ "$(grep -c "dlk-train $T/syn/data -o $T/syn/L " "$T/out")" = 1 ] && pass "run L, which all three need, trained once" || fail "run L trained $(grep -c "dlk-train $T/syn/data -o $T/syn/L " "$T/out") times"
[ -s "$T/syn/data/dataset.json" ] && [ "$(grep -c "dlk-prep" "$T/out")" = 0 ] && pass "the data prepared for Table 2 serves them all" || fail "prepared again"
contains "| DLKUNet-L 512x512 |" "Table 4: our 512 run"
contains "| DLKUNet-L 512x512 (published) |" "Table 4: the paper's row"
contains "81.47" "Table 4: the paper's 512 DSC"
for m in "DLKUNet-5DW (5x5; 5x5 7x7)" "DLKUNet-7DW (7x7; 5x5 7x7)" "DLKUNet-LKA1 (3x3; 3x3 7x7)" "DLKUNet-LKA2 (3x3; 5x5 5x5)"; do
  contains "| $m |" "Table 5: our $m, named by its kernels"
done
contains "| DLKUNet-LKA2 (3x3; 5x5 5x5) (published) |" "Table 5: the paper's rows"
"$PY" - "$T/syn/fig5.svg" <<'PYEOF' && pass "Fig. 5: two curves with a legend, flagged as validated on the test set" || fail "fig5.svg"
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot(); ns = '{http://www.w3.org/2000/svg}'
text = ' '.join(t.text or '' for t in r.iter(ns + 'text'))
assert len(r.findall('.//' + ns + 'polyline')) == 2, 'curves'
assert 'phase loss (eq. 11)' in text and 'ordinary loss' in text, text
assert 'model selection on the test set' in text and 'mean Dice on the test split' in text, text
PYEOF
expect 0 "make table4 table5 fig5 again does nothing" make -f examples/Makefile table4-steps table5-steps fig5-steps "${SYN[@]}"
grep -q "dlk-train" "$T/out" && fail "the second run retrained" || pass "incremental: nothing rerun"
expect 0 "make fig6 (tiny)" make -f examples/Makefile fig6-steps T="$BIN" ACDC="$T/ACDC/training" ACDC_OUT="$T/acdc" DEVICE=cpu \
  ACDC_TRAIN="--config acdc-paper $TINYL" RUN_L="--variant L --size 32" \
  RUN_L-phase="--variant L --loss phase --loss-phases 200:0.6:0.4,*:0.7:0.3 --lr-phases 200:0.001,*:0.00001 --size 32"
"$PY" - "$T/acdc/fig6.svg" <<'PYEOF' && pass "Fig. 6: dynamic and phase loss, validated on ACDC's val split" || fail "fig6.svg"
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot(); ns = '{http://www.w3.org/2000/svg}'
text = ' '.join(t.text or '' for t in r.iter(ns + 'text'))
assert len(r.findall('.//' + ns + 'polyline')) == 2
assert 'dynamic loss (eq. 12-13)' in text and 'mean Dice on the val split' in text, text
assert 'model selection' not in text, text
PYEOF
# Fig. 9: S, M, L by C = 64, 96, 128; the C = 96 runs are Table 2's (S, and L from above, exist
# already), the others train here, each with its tiny C standing in for 64 or 128.
F9=(T="$BIN" SYNAPSE="$T/RawData" SYNAPSE_OUT="$T/syn" DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper --epochs 1 --batch 16 -j 2")
for v in S M L; do F9+=(RUN_$v="--variant $v --base-channels 4 --size 32" RUN_$v-C64="--variant $v --base-channels 2 --size 32"
                        RUN_$v-C128="--variant $v --base-channels 6 --size 32"); done
expect 0 "make fig9 (tiny)" make -f examples/Makefile fig9-steps "${F9[@]}"
n=$(grep -c "dlk-train $T/syn/data" "$T/out")
[ "$n" = 7 ] && pass "fig9 trains the 6 runs beside C = 96 and M, reusing S and L" || fail "fig9 trained $n runs"
"$PY" - "$T/syn" <<'PYEOF' && pass "Fig. 9: 3 x 3 cells per panel, each the mean DSC of its run's scores.json" || fail "fig9.svg"
import json, sys, xml.etree.ElementTree as E
d = sys.argv[1]; ns = '{http://www.w3.org/2000/svg}'
r = E.parse(d + '/fig9.svg').getroot()
texts = [t.text for t in r.iter(ns + 'text')]
for run in ('S-C64', 'M', 'L-C128'):
    want = '%.2f' % (100 * json.load(open(f'{d}/{run}/scores.json'))['mean_dsc'])
    assert want in texts, (run, want, texts)
assert all(x in texts for x in ('DLKUNet-S', 'DLKUNet-M', 'DLKUNet-L', 'C=64', 'C=96', 'C=128')), texts
assert len([e for e in r.iter(ns + 'rect') if e.get('stroke') == 'white']) == 18
PYEOF
expect 0 "make fig9 again does nothing" make -f examples/Makefile fig9-steps "${F9[@]}"
grep -q "dlk-train" "$T/out" && fail "the second run retrained" || pass "incremental: nothing rerun"
# Figs. 7, 8, 10 from the predictions the synapse and acdc targets kept (pred.dlks): nothing
# trains or segments again.
expect 0 "make fig7 fig10 (tiny)" make -f examples/Makefile fig7-steps fig10-steps T="$BIN" SYNAPSE="$T/RawData" \
  SYNAPSE_OUT="$T/syn" VARIANTS=S DEVICE=cpu SYNAPSE_TRAIN="--config synapse-paper $TINY" PANEL_ROWS=3
grep -q "dlk-train\|dlk-infer" "$T/out" && fail "the panels trained or segmented again" || pass "panels from the kept predictions"
expect 0 "make fig8 (tiny)" make -f examples/Makefile fig8-steps T="$BIN" ACDC="$T/ACDC/training" ACDC_OUT="$T/acdc" \
  VARIANTS=S DEVICE=cpu ACDC_TRAIN="--config acdc-paper $TINY"
"$PY" - "$T/syn/fig7.png" "$T/syn/fig10.png" "$T/acdc/fig8.png" <<'PYEOF' && pass "Figs. 7, 10, 8: PNGs that decode, 3 rows of 24-pixel slices and a legend" || fail "panel PNGs"
import struct, sys, zlib
for f in sys.argv[1:]:
    b = open(f, 'rb').read()
    assert b[:8] == b'\x89PNG\r\n\x1a\n', f
    w, h = struct.unpack('>II', b[16:24])
    assert w >= 3 * 24 and h >= 3 * 24, (f, w, h)  # image, reference, DLKUNet-S; PANEL_ROWS (ACDC: 4) rows
    pos, idat = 8, b''
    while pos < len(b):
        n, kind = struct.unpack('>I4s', b[pos:pos + 8]); idat += b[pos + 8:pos + 8 + n] if kind == b'IDAT' else b''; pos += 12 + n
    assert len(zlib.decompress(idat)) == h * (3 * w + 1), f
assert open(sys.argv[1], 'rb').read() != open(sys.argv[2], 'rb').read()  # fig10: the pancreas alone
PYEOF
# The whole paper: -n lists each of its 19 runs once and two preps; the report of the tiny
# trees (everything made above, so only Table 1 and the HTML are new) renders in a real browser.
expect 0 "make -n paper" make -n -f examples/Makefile paper T="$BIN" SYNAPSE="$T/RawData" ACDC="$T/ACDC/training" \
  SYNAPSE_OUT="$T/new-syn" ACDC_OUT="$T/new-acdc"
runs=$(grep -o "dlk-train [^ ]* -o [^ ]*" "$T/out" | awk '{print $4}' | sed "s|$T/||" | sort | tr '\n' ' ')
want="new-acdc/L new-acdc/L-phase new-acdc/M new-acdc/S new-syn/L new-syn/L-512 new-syn/L-5DW new-syn/L-7DW new-syn/L-C128 new-syn/L-C64 new-syn/L-LKA1 new-syn/L-LKA2 new-syn/L-ordinary new-syn/M new-syn/M-C128 new-syn/M-C64 new-syn/S new-syn/S-C128 new-syn/S-C64 "
[ "$runs" = "$want" ] && pass "make -n paper lists the 19 runs once each" || fail "make -n paper runs: $runs"
[ "$(grep -c "dlk-prep --raw" "$T/out")" = 2 ] && pass "and prepares each dataset once" || fail "preps: $(grep -c "dlk-prep --raw" "$T/out")"
expect 0 "make report (tiny)" make -f examples/Makefile report-steps T="$BIN" SYNAPSE="$T/RawData" ACDC="$T/ACDC/training" \
  SYNAPSE_OUT="$T/syn" ACDC_OUT="$T/acdc" VARIANTS=S DEVICE=cpu REPORT="$T/report.html"
grep -q "dlk-train\|dlk-infer" "$T/out" && fail "the report trained or segmented again" || pass "the report from what is made"
grep -q "https\?://[a-z]" "$T/report.html" && ! grep -q "http://www.w3.org/2000/svg" "$T/report.html" && fail "the report links out" || pass "the report is one file"
expect 0 "make report, fig6, fig7, fig8, fig10 again" make -f examples/Makefile report-steps fig6-steps fig7-steps fig8-steps fig10-steps \
  T="$BIN" SYNAPSE="$T/RawData" ACDC="$T/ACDC/training" SYNAPSE_OUT="$T/syn" ACDC_OUT="$T/acdc" VARIANTS=S DEVICE=cpu REPORT="$T/report.html"
grep -q "$BIN/dlk-" "$T/out" && fail "the second run remade something: $(grep "$BIN/dlk-" "$T/out" | head -3)" || pass "incremental: nothing rerun"
if command -v chromium >/dev/null; then
  OUTDIR=${DLK_TEST_OUTPUT:-$T}; mkdir -p "$OUTDIR"
  chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chromium.log"
  grep -q 'data-figures="6" data-broken="0" data-errors="0"' "$T/dom.html" \
    && pass "chromium: the 6 figures render, no error" || fail "chromium: $(grep -o 'data-[a-z]*="[0-9]*"' "$T/dom.html" | tr '\n' ' ')"
  [ "$(grep -c "<table>" "$T/dom.html")" = 5 ] && pass "chromium: Tables 1-5 as HTML tables" || fail "tables in the DOM: $(grep -c "<table>" "$T/dom.html")"
  grep -qF "<h2>Fig. 10: pancreas</h2>" "$T/dom.html" && grep -qF "<h2>Table 1: configurations</h2>" "$T/dom.html" \
    && pass "sections titled as the paper" || fail "section titles: $(grep -o "<h2>[^<]*</h2>" "$T/dom.html" | tr '\n' ' ')"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,6000 --screenshot="$OUTDIR/paper-report.png" \
    "file://$T/report.html" >/dev/null 2>&1 && [ -s "$OUTDIR/paper-report.png" ] && pass "screenshot: $OUTDIR/paper-report.png" || fail "screenshot"
else
  echo "skip: no chromium (scripts/install-deps installs it): the report is not opened in a browser"
fi
# Cross-validation: 2 folds of the fake Synapse train split, each scored and ensembled on its test cases.
CVA=(T="$BIN" CV="$T/RawData" CV_OUT="$T/cv" FOLDS=2 DEVICE=cpu CV_TRAIN="--config synapse-paper --variant S $TINY")
expect 0 "make cv (2 folds, tiny)" make -f examples/Makefile cv-steps "${CVA[@]}"
for r in "fold 0" "fold 1" "ensemble of 2 folds"; do contains "| $r |" "cv.md: $r"; done
"$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); f = [c.get('fold') for c in d['cases'] if c['split'] == 'train']; assert d['folds'] == 2 and sorted(set(f)) == [0, 1] and abs(f.count(0) - f.count(1)) <= 1, f" \
  "$T/cv/data/dataset.json" && pass "the 18 train cases in 2 folds of 9" || fail "cv folds"
grep -q '"fold": 1' "$T/cv/fold1/config.json" && pass "fold 1's run records its fold" || fail "fold1/config.json"
expect 0 "make cv again does nothing" make -f examples/Makefile cv-steps "${CVA[@]}"
grep -q "dlk-train\|dlk-infer" "$T/out" && fail "the second run remade something" || pass "incremental: nothing rerun"
expect 2 "make table4 without SYNAPSE" make -f examples/Makefile table4 -o tools
expect 0 "make table1" make -f examples/Makefile --no-print-directory table1 T="$BIN" BUILD=/nonexistent -o tools
contains "| DLKUNet-L | {96,192,384,768} | 17.71 | 17708659 |" "Table 1's exact parameter counts"
expect 2 "make synapse without SYNAPSE" make -f examples/Makefile synapse -o tools
finish
