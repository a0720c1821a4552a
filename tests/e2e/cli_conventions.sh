# Every tool: --help, --version, usage errors with exit 2, config-file precedence.
. "$(dirname "$0")/lib.inc"

for tool in dlk-prep dlk-train dlk-score dlk-infer dlk-report; do
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
expect 2 "dlk-prep with both --image and --dataset" "$BIN/dlk-prep" --image a --dataset b -o "$T/o"
expect 2 "dlk-prep --axis w" "$BIN/dlk-prep" --image a --axis w -o "$T/o"
contains "--axis: 'w'" "bad axis is named"
expect 2 "dlk-prep with an unknown preset" "$BIN/dlk-prep" --dataset "$T" --preset nosuch -o "$T/o"
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
  "--save-minutes nan" "--dynamic-k 0" "--precision fp8" "--train-split bogus" "--val-split bogus" "--classes -1"; do
  set -- $bad
  expect 2 "dlk-train $bad" train "$1" "$2"
  contains "$1: " "dlk-train $bad: the message names $1"
done
[ -e "$T/run" ] && fail "a refused command left output" || pass "refused commands leave no output"
finish
