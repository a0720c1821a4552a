# Every option of every tool's --help is in its man page, and the other way round.
. "$(dirname "$0")/lib.inc"
MAN=$(cd "$(dirname "$0")/../../man" && pwd)
for tool in $TOOLS; do
  # dlk-report: the options of all its commands (dlk-report COMMAND --help).
  commands=""
  [ "$tool" = dlk-report ] && commands=$("$BIN/$tool" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
  { "$BIN/$tool" --help; for c in $commands; do "$BIN/$tool" "$c" --help; done; } |
    sed '/^Examples:/,/^Exit status/d' | grep -E '^ +(-[a-zA-Z], )?--[a-z]' | sed -E 's/^ +(-[a-zA-Z], )?(--[a-z0-9-]+).*/\2/' | sort -u >"$T/help"
  grep -E '^\.(B|BR) ' "$MAN/man1/$tool.1" | grep -oE '\\-\\-[a-z][a-z0-9\\-]*' | sed 's/\\//g' | sort -u >"$T/man"
  missing=$(comm -23 "$T/help" "$T/man" | tr '\n' ' ')
  extra=$(comm -13 "$T/help" "$T/man" | tr '\n' ' ')
  [ -z "$missing" ] && pass "$tool(1) documents every option of --help" || fail "$tool(1) lacks: $missing"
  [ -z "$extra" ] && pass "$tool(1) documents no option --help lacks" || fail "$tool(1) has options --help lacks: $extra"
  command -v groff >/dev/null && { groff -man -t -ww -z "$MAN/man1/$tool.1" 2>"$T/warn" && [ ! -s "$T/warn" ] && pass "$tool(1) renders cleanly" || fail "$tool(1) warnings: $(cat "$T/warn")"; }
done
[ -s "$MAN/man5/dlk-shard.5" ] && pass "dlk-shard(5) exists" || fail "dlk-shard(5) missing"
finish
