# C++ DLKUNet vs the Python reference (bench/reference), S, M and L, fp32, rel. error < 1e-5.
set -u
EXPORT=${1:?usage: parity.sh EXPORTER}
. "$(dirname "$0")/python.inc"
T=$(mktemp -d /tmp/dlk-parity-XXXXXX)
trap 'rm -rf "$T"' EXIT
for v in S M L; do "$EXPORT" $v "$T/$v" || exit 1; done
"$PY" "$(dirname "$0")/../../bench/reference/parity.py" "$T/S" "$T/M" "$T/L"
