# dlk-train --summary against ../shared/spec/dlkunet-architecture.md (Table 1, section 4).
. "$(dirname "$0")/lib.inc"
check() { # variant size params true paper
  expect 0 "summary of $1 at $2" "$BIN/dlk-train" --summary --variant "$1" --size "$2"
  contains "params:     $(printf '%16s' "$3")" "$1 at $2 has $3 parameters"
  contains "($4G; conv weight" "$1 at $2 has $4 G true MACs"
  contains "($5G; the paper's" "$1 at $2 has $5 G MACs in the paper's convention"
}
check S 224 1,131,379 10.280 15.947
# The spec prints 22.842 G for M, the sum of its rounded stage values; the exact count is
# 22,841,478,400 (the paper: 22.84 G).
check M 224 4,494,451 14.385 22.841
contains "22,841,478,400" "M's exact paper-convention count"
check L 224 17,708,659 18.403 29.641
check L 512 17,708,659 96.146 154.860
expect 0 "summary for 4 classes" "$BIN/dlk-train" --summary --variant L --num-classes 4
contains "17,708,174" "L with 4 classes has 485 fewer parameters"
expect 0 "summary at an odd size" "$BIN/dlk-train" --summary --variant S --size 100,75
contains "96x100x75" "odd sizes keep their shape at full resolution"
expect 2 "unknown variant" "$BIN/dlk-train" --summary --variant XL
contains "unknown variant 'XL'" "bad variant named"
expect 2 "even LKA kernel" "$BIN/dlk-train" --summary --lka-kernel 4
expect 2 "training is not in this version" "$BIN/dlk-train"
finish
