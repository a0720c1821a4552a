# Every tool: --help, --version, usage errors with exit 2, config-file precedence.
. "$(dirname "$0")/lib.inc"

for tool in $TOOLS; do
  expect 0 "$tool --help" "$BIN/$tool" --help
  contains "Usage: $tool" "$tool --help shows usage"
  contains "--config FILE" "$tool --help shows the shared options"
  contains "Examples:" "$tool --help shows examples"
  grep -q "\[[^]]*\]$" "$T/out" && pass "$tool --help shows defaults" || fail "$tool --help shows no default"
  expect 0 "$tool --version" "$BIN/$tool" --version
  for lib in "LibTorch " "ITK " "zstd "; do contains "$lib" "$tool --version names $lib"; done
  expect 2 "$tool with an unknown option" "$BIN/$tool" --no-such-option
  contains "Try '$tool --help'" "$tool points to --help on misuse"
done

expect 2 "dlk-prep without output" "$BIN/dlk-prep" --image x.nii.gz
contains "no output" "missing -o is explained"
expect 2 "dlk-prep with both --image and --raw" "$BIN/dlk-prep" --image a --raw b -o "$T/o"
expect 2 "dlk-prep --axis w" "$BIN/dlk-prep" --image a --axis w -o "$T/o"
contains "--axis w: axial, coronal, sagittal" "bad axis is named, with the ones allowed"
expect 2 "dlk-prep --orientation stored --axis coronal" "$BIN/dlk-prep" --image a --orientation stored --axis coronal -o "$T/o"
contains "anatomical axes need --orientation canonical" "an anatomical axis of unreoriented volumes explained"
expect 2 "dlk-prep --spacing 1" "$BIN/dlk-prep" --image a --spacing 1 -o "$T/o"
contains "--spacing 1: give X,Y in mm" "a bad spacing explained"
expect 2 "dlk-prep with an unknown preset" "$BIN/dlk-prep" --raw "$T" --preset nosuch -o "$T/o"
contains "known: acdc, " "unknown preset lists the known ones"
expect 2 "dlk-prep with a missing config file" "$BIN/dlk-prep" --config "$T/none.ini" --check x
contains "none.ini" "missing config file is named"
printf 'no-such-key = 1\n' >"$T/bad.ini"
expect 2 "dlk-prep with an unknown config key" "$BIN/dlk-prep" --config "$T/bad.ini" --check x
expect 1 "dlk-prep --check of a missing file" "$BIN/dlk-prep" --check "$T/missing.dlks"
contains "missing.dlks" "missing input is named"
: >"$T/empty.dlks"
expect 1 "dlk-prep --check of an empty file" "$BIN/dlk-prep" --check "$T/empty.dlks"
expect 1 "dlk-prep --check of an empty stdin" sh -c "'$BIN/dlk-prep' --check - </dev/null"
contains "empty input" "empty stream is explained"

# Bad option values: exit 2 and the option named, before any data is read (none exists here).
train() { "$BIN/dlk-train" "$T/nodata" -o "$T/run" "$@"; }
for bad in "--lr nan" "--lr -1" "--weight-decay -1" "--momentum 1" "--epochs -1" "--batch 0" "--val-every 0" \
  "--save-minutes nan" "--dynamic-k 0" "--precision fp8" "--train-split bogus" "--val-split bogus" "--num-classes -1" \
  "--depthwise nhwc"; do
  set -- $bad
  expect 2 "dlk-train $bad" train "$1" "$2"
  contains "$1: " "dlk-train $bad: the message names $1"
done
expect 2 "dlk-infer --split bogus" "$BIN/dlk-infer" -m "$T/none.dlkc" "$T/nodata" -o "$T/p" --split bogus
contains "--split: 'bogus' (train, val, test, all)" "dlk-infer --split bogus: the allowed names"
expect 2 "dlk-infer --depthwise nhwc" "$BIN/dlk-infer" -m "$T/none.dlkc" "$T/nodata" -o "$T/p" --depthwise nhwc
contains "--depthwise: 'nhwc'" "dlk-infer --depthwise nhwc: named"
expect 2 "dlk-infer --precision fp8" "$BIN/dlk-infer" -m "$T/none.dlkc" "$T/nodata" -o "$T/p" --precision fp8
contains "--precision: 'fp8' (bf16, fp16, fp32)" "dlk-infer --precision fp8: the allowed values"
expect 2 "dlk-infer --case ''" "$BIN/dlk-infer" -m "$T/none.dlkc" --image "$T/x.nii.gz" --case "" -o "$T/p"
contains "--case: an empty name" "dlk-infer --case '' is explained"
expect 2 "dlk-score --split bogus" "$BIN/dlk-score" --pred "$T/a" --truth "$T/b" --split bogus
contains "--split: 'bogus'" "dlk-score --split bogus is named"
for classes in "" "background,,liver" "background,liver,liver"; do
  expect 2 "dlk-score --classes '$classes'" "$BIN/dlk-score" --pred "$T/a" --truth "$T/b" --classes "$classes"
  contains "--classes: " "dlk-score --classes '$classes' is named"
  expect 2 "dlk-prep --classes '$classes'" "$BIN/dlk-prep" --image "$T/x.nii.gz" --classes "$classes" -o "$T/o"
  contains "--classes: " "dlk-prep --classes '$classes' is named"
done
contains "names 'liver' twice" "a repeated class is named"
expect 2 "dlk-prep --channels 'a,,b'" "$BIN/dlk-prep" --image "$T/x.nii.gz" --channels "a,,b" -o "$T/o"
contains "--channels: 'a,,b' has an empty name" "an empty channel name is explained"
expect 2 "dlk-prep --case ''" "$BIN/dlk-prep" --image "$T/x.nii.gz" --case "" -o "$T/o"
contains "--case: an empty name" "dlk-prep --case '' is explained"
expect 2 "dlk-prep --split-name bogus" "$BIN/dlk-prep" --image "$T/x.nii.gz" --split-name bogus -o "$T/o"
contains "--split-name: 'bogus' (train, val, test)" "dlk-prep --split-name bogus: the allowed names"
expect 2 "dlk-report overlay --slice -1" "$BIN/dlk-report" overlay --image "$T/x.nii.gz" --truth "$T/t" --pred "$T/p" \
  --slice -1 -o "$T/x.png"
contains "--slice: -1 (at least 0)" "dlk-report --slice -1 is explained"
[ -e "$T/run" ] || [ -e "$T/o" ] || [ -e "$T/p" ] && fail "a refused command left output" || pass "refused commands leave no output"
finish
