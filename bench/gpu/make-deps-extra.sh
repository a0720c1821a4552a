#!/usr/bin/env bash
# The Debian libraries dlk needs beyond ../shared/gpu/deps-bookworm.tar.gz (which predates them):
# nlohmann-json (headers), libpng and zlib (headers, libraries), from this machine's packages,
# packed for the GPU machine, where bench/gpu/run.sh unpacks them beside the others.
# usage: bash bench/gpu/make-deps-extra.sh [OUT=.gpu/deps-extra.tar.gz]
set -euo pipefail
OUT=$(realpath -m "${1:-.gpu/deps-extra.tar.gz}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dpkg -L nlohmann-json3-dev libpng-dev libpng16-16 zlib1g-dev zlib1g | while read -r f; do
  case "$f" in /usr/include/*|/usr/lib/*|/lib/*|/usr/share/cmake/*|/usr/share/pkgconfig/*) ;; *) continue ;; esac
  [ -f "$f" ] || continue
  dest=$stage/usr/${f#/usr/}
  [ "${f#/lib/}" != "$f" ] && dest=$stage/usr/lib/${f#/lib/}
  mkdir -p "$(dirname "$dest")"
  cp -L "$f" "$dest" # links resolved: an absolute one (libz.so -> /lib/...) would dangle there
done
mkdir -p "$(dirname "$OUT")"
tar -C "$stage" -czf "$OUT" usr
echo "make-deps-extra: $(find "$stage" -type f | wc -l) files into $OUT"
