# A seeded training run of dlk's DLKUNet-S (16 base channels, 60 steps, fp32 on the CPU) against
# the Python reference repeating it step for step: the loss curves agree within the reference's
# own rounding noise (bench/reference/train_curve.py says how that is measured).
set -u
EXPORT=${1:?usage: curve.sh CURVE_EXPORTER}
. "$(dirname "$0")/python.inc"
T=$(mktemp -d /tmp/dlk-curve-XXXXXX)
trap 'rm -rf "$T"' EXIT
"$EXPORT" S "$T/S" 60 16 cpu fp32 || exit 1
"$PY" "$(dirname "$0")/../../bench/reference/train_curve.py" "$T/S"
