# Figures say which way is which. One synthetic patient, a bright block on its left, anterior and
# superior, written by nibabel (not by dlk) as RAS, as LPS and with x and y swapped (ARS); dlk-report
# overlay and panel draw it in both conventions, and where the block lands is read back from the
# PNG's pixels: radiological puts the patient's left on the viewer's right, neurological on the
# viewer's left, anterior (axial) and superior (coronal) at the top, whatever the file's order.
. "$(dirname "$0")/lib.inc"
need_itk
need_python "numpy, nibabel, zlib" "to write the synthetic volumes and read the PNGs"
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || [ -n "${DLK_FONT:-}" ] || skip "no font: figures have no letters"

# The patient: 160 mm from right to left, 120 mm from anterior to posterior, 40 mm from inferior to
# superior, 1 mm voxels; the block over 40 x 30 x 13 mm on the left (R-L 100..140 counted from the
# right), anterior (A-P 15..45 counted from the front) and superior (S-I 2..15 counted from the top).
mkdir -p "$T/in"
"$PY" - "$T/in" <<'PY' || fail "write the volumes"
import sys, numpy as np, nibabel as nib
out = sys.argv[1]
# RAS: voxel i runs towards the right, j to the anterior, k to the superior (nibabel's identity).
a = np.zeros((160, 120, 40), np.int16)
a[160 - 140:160 - 100, 120 - 45:120 - 15, 40 - 15:40 - 2] = 1000  # i counted from the patient's left
def save(name, data, aff):
    for kind, d in (("ct", data), ("seg", (data > 0).astype(np.uint8))):
        x = nib.Nifti1Image(d, aff)
        x.set_qform(aff, 1); x.set_sform(aff, 1)
        nib.save(x, f"{out}/{name}_{kind}.nii.gz")
save("ras", a, np.eye(4))
# LPS: i to the left, j to the posterior: both reversed, the same patient.
m = np.diag([-1.0, -1.0, 1.0, 1.0]); m[0, 3], m[1, 3] = 159, 119
save("lps", a[::-1, ::-1, :], m)
# ARS: voxel x runs to the anterior, y to the right (x and y swapped).
m = np.zeros((4, 4)); m[1, 0] = m[0, 1] = m[2, 2] = m[3, 3] = 1
save("ars", np.ascontiguousarray(np.transpose(a, (1, 0, 2))), m)
PY
"$PY" -c "import nibabel as nib, sys; print(' '.join(''.join(nib.aff2axcodes(nib.load(f).affine)) for f in sys.argv[1:]))" \
  "$T"/in/{ras,lps,ars}_ct.nii.gz >"$T/codes"
[ "$(cat "$T/codes")" = "RAS LPS ARS" ] && pass "volumes written as RAS, LPS and ARS" || fail "orientations: $(cat "$T/codes")"

# locate.py PNG KIND W H [QUADRANT [noletters]]: finds the slice's cells (pure black background, a
# run of rows H long holding at least W/2 black pixels), checks they are W x H, that the bright
# block lies in QUADRANT (tl, tr, bl, br) of each, and that each edge has bright letter pixels at
# its middle (the block is away from the middles; with noletters: none). KIND overlay: the two cells side by side; panel: the first
# cell (the image). Prints the letter masks of the first cell (left, right, top, bottom) as JSON.
cat >"$T/locate.py" <<'PY'
import json, struct, sys, zlib
import numpy as np
path, kind, W, H = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
quadrant = sys.argv[5] if len(sys.argv) > 5 else None
letters = not (len(sys.argv) > 6 and sys.argv[6] == "noletters")
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat = 8, b""
while pos < len(data):
    n, t = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if t == b"IHDR": w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    if t == b"IDAT": idat += body
    pos += 12 + n
assert depth == 8 and ctype == 2, (depth, ctype)
raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
img, prev = np.zeros((h, 3 * w), np.int32), np.zeros(3 * w, np.int32)
for y in range(h):  # PNG filters (RFC 2083, 6)
    f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
    out = np.zeros(3 * w, np.int32)
    for x in range(3 * w):
        a = out[x - 3] if x >= 3 else 0
        b, c = prev[x], (prev[x - 3] if x >= 3 else 0)
        if f == 0: pred = 0
        elif f == 1: pred = a
        elif f == 2: pred = b
        elif f == 3: pred = (a + b) // 2
        else:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[x] = (line[x] + pred) & 255
    img[y], prev = out, out
rgb = img.reshape(h, w, 3)
black = (rgb.max(axis=2) < 30)
bright = (rgb.min(axis=2) > 200)
dark_rows = black.sum(axis=1) >= W // 2
y0, run, y = 0, 0, 0  # the longest run of such rows (titles and captions have fewer black pixels)
while y < h:
    n = 0
    while y + n < h and dark_rows[y + n]: n += 1
    if n > run: y0, run = y, n
    y += n + 1
assert run == H, f"the slice is {run} rows high, not {H}"
cols = np.where(black[y0:y0 + H].sum(axis=0) >= H // 4)[0]
x0 = cols[0]
cells = [x0, x0 + W + 4] if kind == "overlay" else [x0]
masks = None
for cx in cells:
    c = bright[y0:y0 + H, cx:cx + W]
    assert cx + W == w or not black[y0:y0 + H, cx + W].all(), "the cell is wider than expected"
    if quadrant:
        q = {"tl": c[:H // 2, :W // 2].sum(), "tr": c[:H // 2, W // 2:].sum(), "bl": c[H // 2:, :W // 2].sum(), "br": c[H // 2:, W // 2:].sum()}
        best = max(q, key=q.get)
        assert best == quadrant and q[best] > 250 and all(v < q[best] / 4 for k, v in q.items() if k != best), (quadrant, q)
    s = 16  # a box at the middle of each edge
    boxes = {"left": c[H // 2 - s // 2:H // 2 + s // 2, :s], "right": c[H // 2 - s // 2:H // 2 + s // 2, W - s:],
             "top": c[:s, W // 2 - s // 2:W // 2 + s // 2], "bottom": c[H - s:, W // 2 - s // 2:W // 2 + s // 2]}
    for k, b in boxes.items():
        if letters: assert b.sum() >= 4, f"no letter at the {k} edge ({b.sum()} bright pixels)"
        else: assert b.sum() == 0, f"a letter at the {k} edge"
    if masks is None and letters:
        def trim(b):
            ys, xs = np.nonzero(b)
            return b[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(int).tolist()
        masks = {k: trim(b) for k, b in boxes.items()}
print(json.dumps(masks))
PY

# Overlays: every file, axial (voxel axis z in all three), coronal (the A-P voxel axis: y for RAS
# and LPS, x for ARS) and sagittal (the R-L one: x, or y for ARS), both conventions. Axial: 160
# columns (R-L) by 120 rows (A-P), the block at the top (anterior); coronal: 160 by 40, the block at
# the top (superior); left or right: the patient's left, where the block is, on the viewer's right
# in radiological view, on the left in neurological view. Sagittal: 120 columns (A-P) by 40 rows,
# the block top-left (anterior on the left, superior at the top) in both.
for v in ras lps ars; do
  for view in radiological neurological; do
    [ $view = radiological ] && side=r || side=l
    for plane in axial coronal sagittal; do
      case $plane in
        axial) axis=2 size="160 120" where=t$side ;;
        coronal) axis=1 size="160 40" where=t$side; [ $v = ars ] && axis=0 ;;
        sagittal) axis=0 size="120 40" where=tl; [ $v = ars ] && axis=1 ;;
      esac
      args=(overlay --image "$T/in/${v}_ct.nii.gz" --truth "$T/in/${v}_seg.nii.gz" --pred "$T/in/${v}_seg.nii.gz" --axis $axis)
      [ $view = neurological ] && args+=(--view neurological) # radiological: the default
      "$BIN/dlk-report" "${args[@]}" -o "$T/$v-$plane-$view.png" 2>"$T/err" || { fail "overlay $v $plane $view"; cat "$T/err"; continue; }
      "$PY" "$T/locate.py" "$T/$v-$plane-$view.png" overlay $size $where >"$T/$v-$plane-$view.letters" 2>"$T/err" \
        && pass "overlay $v $plane $view: ${size/ /x}, the block $where, letters at the four edges" \
        || { fail "overlay $v $plane $view"; cat "$T/err"; }
    done
  done
done
for plane in axial coronal sagittal; do
  for view in radiological neurological; do
    cmp -s "$T/ras-$plane-$view.png" "$T/lps-$plane-$view.png" && cmp -s "$T/ras-$plane-$view.png" "$T/ars-$plane-$view.png" \
      && pass "$plane $view: the RAS, LPS and ARS files give the same picture" || fail "$plane $view: the files' pictures differ"
  done
done
# The letters: radiological puts R on the left and L on the right, neurological the other way; the
# top and bottom letters stay (A and P axial, S and I coronal), and differ from each other. Sagittal
# slices are lettered alike in both (A left, P right, S top, I bottom: four different letters).
"$PY" - "$T" <<'PY' && pass "R and L change sides with the convention; A/P and S/I stay" || fail "letters"
import json, sys
t = sys.argv[1]
for plane in ("axial", "coronal"):
    r = json.load(open(f"{t}/ras-{plane}-radiological.letters"))
    n = json.load(open(f"{t}/ras-{plane}-neurological.letters"))
    assert r["left"] == n["right"] and r["right"] == n["left"] and r["left"] != r["right"], plane
    assert r["top"] == n["top"] and r["bottom"] == n["bottom"] and r["top"] != r["bottom"], plane
r = json.load(open(f"{t}/ras-sagittal-radiological.letters"))
n = json.load(open(f"{t}/ras-sagittal-neurological.letters"))
assert r == n, "sagittal"
assert len({json.dumps(m) for m in r.values()}) == 4, "sagittal letters"
PY
expect 2 "an unknown --view" "$BIN/dlk-report" overlay --image "$T/in/ras_ct.nii.gz" --truth "$T/in/ras_seg.nii.gz" \
  --pred "$T/in/ras_seg.nii.gz" --view left -o "$T/x.png"
contains "--view left" "the error names --view"

# Panels: datasets of the RAS and the ARS file (reoriented to LPS) and of the RAS file sliced as
# stored (the shard keeps the file's direction), axial; the image cell shows the block like the
# overlay.
prep() { "$BIN/dlk-prep" -q --image "$T/in/$1_ct.nii.gz" --label "$T/in/$1_seg.nii.gz" --case c --split-name test "${@:3}" -o "$T/$2"; }
prep ras ds-ras || fail "prep ras"
prep ars ds-ars || fail "prep ars"
prep ras ds-stored --orientation stored || fail "prep ras as stored"
for ds in ds-ras ds-ars ds-stored; do
  for view in radiological neurological; do
    [ $view = radiological ] && side=r || side=l
    "$BIN/dlk-report" panel "$T/$ds" --pred "$T/$ds" --name labels --case c --view $view -o "$T/$ds-$view.png" 2>"$T/err" \
      || { fail "panel $ds $view"; cat "$T/err"; continue; }
    "$PY" "$T/locate.py" "$T/$ds-$view.png" panel 160 120 t$side >/dev/null 2>"$T/err" \
      && pass "panel $ds $view: the block top-$([ $side = r ] && echo right || echo left), letters at the edges" \
      || { fail "panel $ds $view"; cat "$T/err"; }
  done
done
# A shard whose direction is no rotation (all zeros, written by hand): no letters, the slice as
# stored (RAS: the patient's left, column 0, on the viewer's left, anterior, the last row, at the
# bottom), and the panel still drawn.
cp -r "$T/ds-stored" "$T/ds-zero"
shard_edit "$T/ds-stored/c.dlks" "$T/ds-zero/c.dlks" "re.sub(r'\"direction\": *\[[^]]*\]', '\"direction\":[0,0,0,0,0,0,0,0,0]', m)"
grep -aq '"direction":\[0,0,0,0,0,0,0,0,0\]' "$T/ds-zero/c.dlks" || fail "the shard's direction was not replaced"
"$BIN/dlk-report" panel "$T/ds-zero" --pred "$T/ds-zero" --name labels --case c -o "$T/zero.png" 2>"$T/err" || { fail "panel ds-zero"; cat "$T/err"; }
"$PY" "$T/locate.py" "$T/zero.png" panel 160 120 bl noletters >/dev/null 2>"$T/err" \
  && pass "a direction that is no rotation: shown as stored, no letters" || { fail "panel ds-zero"; cat "$T/err"; }
finish
