# dlk-score against an independent scipy implementation of medpy's metrics on random label
# volumes with anisotropic spacing, and its conventions, inputs and errors.
. "$(dirname "$0")/lib.inc"
need_itk
REF=$(cd "$(dirname "$0")/../score" && pwd)/medpy_reference.py
need_python "numpy, scipy, nibabel" "for the independent reference"
"$PY" "$REF" make "$T/r" 60 7 || fail "making random volumes"
expect 0 "score random volumes (medpy, mm)" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --mode medpy --spacing image --csv "$T/r.csv"
"$PY" "$REF" check "$T/r" "$T/r.csv" >"$T/out" 2>&1 && pass "$(cat "$T/out")" || { fail "differs from the scipy reference"; cat "$T/out"; }

# The TransUNet convention: unit spacing, its empty-mask rules, tags in the CSV.
expect 0 "score (transunet)" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --csv "$T/t.csv" --json "$T/t.json"
contains "mode transunet, spacing unit" "the table names the convention"
grep -q ",both$" "$T/t.csv" && pass "CSV rows carry their rule" || fail "no rule column"
"$PY" - "$T/t.csv" "$T/t.json" <<'PYEOF' && pass "JSON means are the means of the CSV rows" || fail "JSON means"
import csv, json, sys, statistics
rows = list(csv.DictReader(open(sys.argv[1])))
j = json.load(open(sys.argv[2]))
for name, m in j["class_mean"].items():
    vals = [float(r["dsc"]) for r in rows if r["class"] == name]
    assert abs(statistics.mean(vals) - m["dsc"]) < 1e-12, (name, m)
assert abs(j["mean_dsc"] - statistics.mean(m["dsc"] for m in j["class_mean"].values())) < 1e-12
assert j["settings"]["mode"] == "transunet"
PYEOF
expect 2 "transunet with mm spacing" "$BIN/dlk-score" --pred "$T/r/pred" --truth "$T/r/truth" --spacing image
# Missing cases and mismatched grids.
mkdir "$T/few" && cp "$T/r/pred/case000.nii.gz" "$T/few/"
expect 1 "a reference without prediction" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth"
contains "has a reference" "the missing case is named"
expect 0 "--allow-missing" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth" --allow-missing
contains "scored as an empty one" "the warning says how it was scored"
mkdir "$T/grid" && cp "$T/r/pred/case001.nii.gz" "$T/grid/case000.nii.gz"
mkdir "$T/one" && cp "$T/r/truth/case000.nii.gz" "$T/one/"
expect 1 "different grids" "$BIN/dlk-score" --pred "$T/grid/case000.nii.gz" --truth "$T/one/case000.nii.gz"
contains "different grids" "grid mismatch explained"
expect 2 "unknown mode" "$BIN/dlk-score" --pred "$T/few" --truth "$T/r/truth" --mode dice
finish
