# One vocabulary for the suite: every tool's --help (and every dlk-report command's) parsed, and
# a short flag that names two long options, or a long option whose value is of two kinds, is a
# failure; the options of the shared groups read the same in every tool. dlk-report's commands
# take only their own options; the spellings given up still work, with a notice.
. "$(dirname "$0")/lib.inc"
need_python "re" "to parse --help"

for tool in ${TOOLS/dlk-report/}; do
  "$BIN/$tool" --help >"$T/help.$tool" || fail "$tool --help"
done
commands=$("$BIN/dlk-report" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
[ "$(echo $commands)" = "table table1 curves heatmap overlay panel html" ] && pass "dlk-report --help lists its commands" \
  || fail "dlk-report's commands: $commands"
for c in $commands; do
  "$BIN/dlk-report" "$c" --help >"$T/help.dlk-report-$c" || fail "dlk-report $c --help"
done

"$PY" - "$T"/help.* <<'PYEOF' >"$T/vocab" && pass "no short flag or long option means two things" || { fail "the vocabulary has clashes"; cat "$T/vocab"; }
import os, re, sys
# A value's kind from its metavar: paths are paths whatever they hold.
PATHS = {"FILE", "DIR", "RUNDIR", "PATH", "INPUT", "LABELS"}
kind = lambda m: "path" if m in PATHS else m
row = re.compile(r"^  (?:-([a-zA-Z]), |    )--([a-z0-9-]+)(?: (\S+))?\s+(.*)$")
shorts, kinds, rows = {}, {}, {}
# The one shared option whose row may differ: dlk-export's --precision is that of the file it
# writes (fp32 or fp16), not the arithmetic of a run; its values are still of the same kind.
OWN_ROW = {("precision", "dlk-export")}
for path in sys.argv[1:]:
    tool = os.path.basename(path)[5:]
    for line in open(path):
        if line.startswith(("Examples:", "Commands:")):
            break
        m = row.match(line.rstrip("\n"))
        if not m:
            continue
        short, name, metavar, text = m.groups()
        if short:
            shorts.setdefault(short, {}).setdefault(name, []).append(tool)
        kinds.setdefault(name, {}).setdefault(kind(metavar or "switch"), []).append(tool)
        if (name, tool) not in OWN_ROW:
            rows.setdefault(name, {}).setdefault(f"{metavar} {text}", []).append(tool)
bad = 0
for s, names in sorted(shorts.items()):
    if len(names) > 1:
        bad += 1
        print(f"-{s} names " + "; ".join(f"--{n} in {', '.join(t)}" for n, t in names.items()))
for n, ks in sorted(kinds.items()):
    if len(ks) > 1:
        bad += 1
        print(f"--{n} takes " + "; ".join(f"{k} in {', '.join(t)}" for k, t in ks.items()))
# The shared groups (lib/cli/option_groups.cpp) and the common options: one row everywhere.
SHARED = ["device", "precision", "depthwise", "split", "part", "classes", "channels", "pred", "truth",
          "keep-largest", "network", "help", "version", "config", "quiet", "verbose", "progress", "threads"]
for n in SHARED:
    if len(rows.get(n, {})) > 1:
        bad += 1
        print(f"--{n} reads differently: " + " | ".join(f"{', '.join(t)}: {r}" for r, t in rows[n].items()))
if len(kinds) < 80:
    bad += 1
    print(f"only {len(kinds)} long options parsed: the help format changed?")
sys.exit(1 if bad else 0)
PYEOF

# dlk-report: each command lists its own options, and refuses another's.
grep -qE -- "--(format|published|checkpoint)" "$T/help.dlk-report-panel" && fail "dlk-report panel --help lists table options" \
  || pass "dlk-report panel --help lists no table option"
grep -qE -- "--(rows|slice|metric)" "$T/help.dlk-report-table" && fail "dlk-report table --help lists other commands' options" \
  || pass "dlk-report table --help lists only its own options"
expect 2 "dlk-report panel --format latex" "$BIN/dlk-report" panel "$T" --format latex -o "$T/p.png"
contains "--format is not an option of 'panel' (it is of: table, table1)" "a misplaced option is named, with its commands"
expect 2 "dlk-report table1 --rows 3" "$BIN/dlk-report" table1 --rows 3
contains "--rows is not an option of 'table1'" "dlk-report table1 --rows: named"
[ -e "$T/p.png" ] && fail "a refused command wrote output" || pass "refused commands write nothing"

# Deprecated spellings: the same result as the new one, and a notice on stderr (none with -q).
expect 0 "dlk-report table1 --format csv" "$BIN/dlk-report" table1 --format csv -o "$T/new.csv"
expect 0 "dlk-report table1 -f csv" "$BIN/dlk-report" table1 -f csv -o "$T/old.csv"
contains "-f is deprecated and will be removed: use --format" "dlk-report -f: notice"
cmp -s "$T/new.csv" "$T/old.csv" && pass "-f csv writes what --format csv writes" || fail "-f and --format differ"
expect 0 "dlk-report --command table1" "$BIN/dlk-report" --command table1 --format csv -o "$T/cmd.csv"
contains "--command is deprecated" "dlk-report --command: notice"
cmp -s "$T/new.csv" "$T/cmd.csv" && pass "--command table1 writes what table1 writes" || fail "--command table1 differs"
"$BIN/dlk-train" --summary --num-classes 4 >"$T/new.txt" 2>"$T/new.err" || fail "dlk-train --summary --num-classes 4"
expect 0 "dlk-train --summary --classes 4" sh -c "'$BIN/dlk-train' --summary --classes 4 2>&1 >'$T/old.txt'"
contains "--classes is deprecated and will be removed: use --num-classes" "dlk-train --classes: notice"
cmp -s "$T/new.txt" "$T/old.txt" && pass "--classes 4 prints what --num-classes 4 prints" || fail "--classes and --num-classes differ"
printf 'classes = 4\n' >"$T/old.ini"
expect 0 "dlk-train --summary with 'classes' in a config file" sh -c "'$BIN/dlk-train' --summary --config '$T/old.ini' 2>&1 >'$T/ini.txt'"
contains "classes (in '$T/old.ini') is deprecated" "an old key of a config file: notice naming the file"
cmp -s "$T/new.txt" "$T/ini.txt" && pass "the old key works" || fail "the old config key differs"
expect 0 "dlk-train -q --summary --classes 4" "$BIN/dlk-train" -q --summary --classes 4
grep -q deprecated "$T/out" && fail "-q still prints the notice" || pass "-q silences the notice"
expect 2 "dlk-prep -d with --image" "$BIN/dlk-prep" --image "$T/x.nii.gz" -d "$T/raw" -o "$T/o"
contains "-d is deprecated and will be removed: use --raw" "dlk-prep -d: read as --raw"
contains "give either --image (one case) or --raw" "dlk-prep -d: then refused as --raw is"
finish
