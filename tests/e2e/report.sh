# dlk-report: tables against Markdown and LaTeX written by hand, a well-formed SVG, a PNG that
# decodes to the right size, and Table 1's exact parameter counts.
. "$(dirname "$0")/lib.inc"
PY=/usr/bin/python3
mkdir -p "$T/A" "$T/B"
cat >"$T/A/scores.json" <<'J'
{"class_mean": {"aorta": {"dsc": 0.9, "hd95": 4}, "liver": {"dsc": 0.7, "hd95": 17}}, "mean_dsc": 0.8, "mean_hd95": 10.5}
J
cat >"$T/B/scores.json" <<'J'
{"class_mean": {"aorta": {"dsc": 0.85, "hd95": 3}, "liver": {"dsc": 0.65, "hd95": 13.5}}, "mean_dsc": 0.75, "mean_hd95": 8.25}
J
cat >"$T/want.md" <<'M'
| Method | DSC | HD95 | Aorta | Liver |
|---|---|---|---|---|
| A | **80.00** | <u>10.50</u> | **90.00** | **70.00** |
| B | <u>75.00</u> | **8.25** | <u>85.00</u> | <u>65.00</u> |
M
cat >"$T/want.tex" <<'M'
\begin{tabular}{lrrrr}
\hline
Method & DSC & HD95 & Aorta & Liver \\
\hline
A & \textbf{80.00} & \underline{10.50} & \textbf{90.00} & \textbf{70.00} \\
B & \underline{75.00} & \textbf{8.25} & \underline{85.00} & \underline{65.00} \\
\hline
\end{tabular}
M
expect 0 "Markdown table" "$BIN/dlk-report" table "$T/A/scores.json" "$T/B/scores.json" -o "$T/got.md"
diff "$T/want.md" "$T/got.md" >"$T/d" && pass "Markdown as written by hand (best bold, second underlined)" || { fail "Markdown differs"; cat "$T/d"; }
expect 0 "LaTeX table" "$BIN/dlk-report" table "$T/A/scores.json" "$T/B/scores.json" --format latex -o "$T/got.tex"
diff "$T/want.tex" "$T/got.tex" >"$T/d" && pass "LaTeX as written by hand" || { fail "LaTeX differs"; cat "$T/d"; }
expect 0 "published rows" "$BIN/dlk-report" table "$T/A/scores.json" --name ours --published synapse
contains "| Swin-Unet (published) |" "published rows beside ours"
contains "| ours |" "--name names the run"
# Table 2 as printed (../shared/spec/paper-tables.md): all eight rows; ours (DSC 80.00) ranks
# below DLKUNet-L (81.21, best) and DLKUNet-M (80.82, second).
for m in "R50 U-Net" "U-Net" "Att-U-Net" "TransUNet" "Swin-Unet" "DLKUNet-S" "DLKUNet-M" "DLKUNet-L"; do
  contains "| $m (published) |" "Table 2's $m row"
done
contains "**81.21**" "the best published DSC bold"
contains "<u>80.82</u>" "the second best underlined"
expect 0 "Table 5's rows" "$BIN/dlk-report" table "$T/A/scores.json" --name ours --published table5
contains "| DLKUNet-LKA2 (3x3; 5x5 5x5) (published) |" "Table 5's LKA2 row"
contains "79.25" "with its DSC"
# Heatmap: A and B as two cells of one row; the better value of each panel gets the scale's
# darkest colour (#253494), the worse its lightest (#ffffcc).
expect 0 "heatmap" "$BIN/dlk-report" heatmap "$T/A/scores.json" "$T/B/scores.json" --name S/64 --name S/96 -o "$T/h.svg"
if [ -x "$PY" ]; then
  "$PY" - "$T/h.svg" <<'PYEOF' && pass "heatmap: both panels, values in the cells, darker for better" || fail "heatmap SVG"
import sys, xml.etree.ElementTree as E
ns = '{http://www.w3.org/2000/svg}'
r = E.parse(sys.argv[1]).getroot()
els = list(r)
fill = {}  # a cell's text -> the fill of the rect drawn just before it
for i, e in enumerate(els):
    if e.tag == ns + 'text' and i and els[i - 1].tag == ns + 'rect' and els[i - 1].get('stroke') == 'white':
        fill[e.text] = els[i - 1].get('fill')
assert fill == {'80.00': '#253494', '75.00': '#ffffcc', '10.50': '#ffffcc', '8.25': '#253494'}, fill
texts = [e.text for e in r.iter(ns + 'text')]
assert 'mean DSC (%) (higher is better)' in texts and 'mean HD95 (lower is better)' in texts, texts
assert texts.count('S') == 2 and '64' in texts and '96' in texts, texts
PYEOF
fi
expect 2 "heatmap without ROW/COLUMN names" "$BIN/dlk-report" heatmap "$T/A/scores.json" --name S -o "$T/h2.svg"
expect 2 "heatmap with a cell twice" "$BIN/dlk-report" heatmap "$T/A/scores.json" "$T/B/scores.json" --name S/64 --name S/64 -o "$T/h2.svg"
[ ! -e "$T/h2.svg" ] && pass "no output after a usage error" || fail "h2.svg written"
expect 0 "Table 1" "$BIN/dlk-report" table1
for n in 1131379 4494451 17708659 "15.95" "22.84" "29.64"; do contains "$n" "Table 1 has $n"; done
printf '{"epoch": 0, "val_mean_dice": 0.5}\n{"epoch": 1, "val_mean_dice": 0.625}\n{"epoch": 2}\n' >"$T/A/log.jsonl"
expect 0 "curves" "$BIN/dlk-report" curves "$T/A/log.jsonl" -o "$T/c.svg"
if [ -x "$PY" ]; then
  "$PY" -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('svg'); assert len(r.findall('{http://www.w3.org/2000/svg}polyline')) == 1" "$T/c.svg" \
    && pass "the SVG is well-formed XML with one curve" || fail "SVG"
fi
expect 1 "curves of a metric no line has" "$BIN/dlk-report" curves "$T/A/log.jsonl" --metric nosuch -o "$T/x.svg"
expect 2 "unknown command" "$BIN/dlk-report" tables
# A deep-supervision log: level_losses is a list per epoch; one level is plotted by its index.
printf '{"epoch": 0, "loss": 0.9, "level_losses": [0.8, 1.1]}\n{"epoch": 1, "loss": 0.7, "level_losses": [0.6, 0.9]}\n' >"$T/B/log.jsonl"
expect 1 "curves of a list field" "$BIN/dlk-report" curves "$T/B/log.jsonl" --metric level_losses -o "$T/l.svg"
contains "level_losses[0]" "the refusal names the way to plot one level"
[ ! -e "$T/l.svg" ] && pass "no output after refusing a list" || fail "l.svg written"
expect 1 "curves of a level the log lacks" "$BIN/dlk-report" curves "$T/B/log.jsonl" --metric 'level_losses[2]' -o "$T/l.svg"
expect 2 "curves of a level named by a non-number" "$BIN/dlk-report" curves "$T/B/log.jsonl" --metric 'level_losses[x]' -o "$T/l.svg"
contains "--metric level_losses[x]" "the refusal names the option"
expect 0 "curves of one level" "$BIN/dlk-report" curves "$T/B/log.jsonl" --metric 'level_losses[1]' -o "$T/l.svg"
if [ -x "$PY" ]; then
  # Level 1's losses 1.1 then 0.9: the curve falls, so its second point is lower on the page (larger y).
  "$PY" -c "
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
(p,) = r.findall('{http://www.w3.org/2000/svg}polyline')
pts = [tuple(map(float, q.split(','))) for q in p.get('points').split()]
assert len(pts) == 2 and pts[1][1] > pts[0][1], pts" "$T/l.svg" && pass "level 1's curve has its two epochs, falling" || fail "level curve"
fi
if [ "${DLK_WITH_ITK:-1}" = 1 ] && [ -d "$DATA/totalseg-ct-small" ] && [ -x "$PY" ]; then
  D=$DATA/totalseg-ct-small
  expect 0 "overlay" "$BIN/dlk-report" overlay --image "$D/ct.nii.gz" --truth "$D/seg.nii.gz" --pred "$D/seg.nii.gz" -o "$T/o.png"
  "$PY" - "$T/o.png" <<'PYEOF' && pass "the PNG decodes: 2 x 122 + 4 pixels wide, 101 rows of slice, contours in colour" || fail "PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
    if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
    pos += 12 + n
w, h = ihdr[0], ihdr[1]
# 2 x 122 + 4 wide, the slice's 101 rows at the image's resolution, and with a font a title row
# above and a legend of the classes below them.
import os
font = os.path.exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
assert w == 248 and (h > 101 + 22 if font else h == 101), (w, h)
raw = zlib.decompress(idat)
assert len(raw) == h * (1 + 3 * w)
pixels = [raw[y * (1 + 3 * w) + 1:(y + 1) * (1 + 3 * w)] for y in range(h)]
assert any(p[i] != p[i + 1] for p in pixels for i in range(0, len(p) - 3, 3)), "no colour"
PYEOF
fi
finish
