# C++ DLKUNet vs the Python reference (bench/reference), S, M and L, fp32, rel. error < 1e-5.
set -u
EXPORT=${1:?usage: parity.sh EXPORTER}
# The first of $DLK_PYTHON, Debian's python3 and the python3 on PATH that has torch and numpy.
PY=
for p in ${DLK_PYTHON:-} /usr/bin/python3 python3; do
  if "$p" -c "import torch, numpy" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with torch and numpy (scripts/install-deps installs python3-torch)"; exit 77; }
T=$(mktemp -d /tmp/dlk-parity-XXXXXX)
trap 'rm -rf "$T"' EXIT
for v in S M L; do "$EXPORT" $v "$T/$v" || exit 1; done
"$PY" "$(dirname "$0")/../../bench/reference/parity.py" "$T/S" "$T/M" "$T/L"
