# --check finds a flipped byte (naming the slice), a truncated shard, a missing shard and reports a stray.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
"$BIN/dlk-prep" -q --image "$DATA/totalseg-ct-small/ct.nii.gz" --label "$DATA/totalseg-ct-small/seg.nii.gz" \
  --label-map totalseg-synapse --case ct01 -o "$T/ds" || { fail "prepare"; finish; }
S=$T/ds/ct01.dlks
size=$(stat -c %s "$S")
expect 0 "a good dataset passes" "$BIN/dlk-prep" --check "$T/ds"

# Flip one byte in the middle of the shard (inside some slice record).
cp "$S" "$T/good.dlks"
at=$((size / 2))
byte=$(od -An -tu1 -j $at -N1 "$S" | tr -d ' ')
printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" | dd of="$S" bs=1 seek=$at conv=notrunc status=none
expect 1 "a flipped byte fails the check" "$BIN/dlk-prep" --check "$T/ds"
contains "slice " "the error names the slice"
contains "ct01.dlks" "the error names the file"
contains "FAIL" "the summary line says FAIL"

# Truncated: the last 100 bytes gone.
head -c $((size - 100)) "$T/good.dlks" >"$S"
expect 1 "a truncated shard fails" "$BIN/dlk-prep" --check "$S"
contains "truncated" "truncation is named"
expect 1 "a truncated stream on stdin fails" sh -c "'$BIN/dlk-prep' --check - <'$S'"

# A stray shard in the dataset directory and a missing one.
cp "$T/good.dlks" "$S"
cp "$T/good.dlks" "$T/ds/stray.dlks"
# A stray is not part of the dataset (what a dlk-prep killed while committing can leave): reported.
expect 0 "a shard not in dataset.json is reported, the dataset passes" "$BIN/dlk-prep" --check "$T/ds"
contains "stray.dlks': not listed in dataset.json" "stray shard named"
rm "$T/ds/stray.dlks" "$S"
expect 1 "a missing shard fails" "$BIN/dlk-prep" --check "$T/ds"
contains "missing (listed in dataset.json)" "missing shard named"
finish
