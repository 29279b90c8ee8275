#!/bin/sh
# heapprof-analyze's --html and --svg-* options: usage errors exit 1 with a message
# naming what is wrong, an unreadable trace exits 2, an unwritable page exits 1.
#   check_cli.sh ANALYZER TRACE WORKDIR
set -u
A=$1 TRACE=$2 W=$3
rm -rf "$W" && mkdir -p "$W"
fails=0
expect() { # expect STATUS PATTERN -- command...
	want=$1 pat=$2
	shift 3
	"$@" >"$W/out" 2>"$W/err"
	got=$?
	if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$W/err"; then
		echo "FAIL: $*: exit $got (expected $want), stderr: $(cat "$W/err")"
		fails=$((fails + 1))
	else
		echo "ok: $*: exit $got: $(head -n 1 "$W/err")"
	fi
}
expect 1 "invalid --svg-flamegraph 'bytes'" -- "$A" --svg-flamegraph bytes "$TRACE"
expect 1 "needs an argument" -- "$A" "$TRACE" --svg-flamegraph
expect 1 "takes one trace" -- "$A" --html "$W/x.html" "$TRACE" "$TRACE"
expect 1 "takes one trace" -- "$A" --svg-timeline "$TRACE" "$TRACE"
expect 1 "-o is not for it" -- "$A" --html "$W/x.html" -o "$W/y.html" "$TRACE"
expect 1 "cannot open '$W/no/such/dir.html' for writing" -- "$A" --html "$W/no/such/dir.html" "$TRACE"
expect 2 "cannot open '$W/missing.zst'" -- "$A" --html "$W/x.html" "$W/missing.zst"
expect 1 "unknown format 'html'" -- "$A" --format html "$TRACE"
# --help documents the options.
"$A" --help >"$W/help"
for opt in "--html FILE" "--svg-flamegraph KIND" "--svg-timeline"; do
	grep -q -- "$opt" "$W/help" || { echo "FAIL: --help lacks $opt"; fails=$((fails + 1)); }
done
# The good cases write what they say.
"$A" -q --html "$W/ok.html" "$TRACE" && grep -q '<script type="application/json" id="hp-data">' "$W/ok.html" ||
	{ echo "FAIL: --html wrote no page"; fails=$((fails + 1)); }
"$A" -q --svg-flamegraph calls -o "$W/ok.svg" "$TRACE" && grep -q '^<svg ' "$W/ok.svg" ||
	{ echo "FAIL: --svg-flamegraph -o wrote no SVG"; fails=$((fails + 1)); }
[ "$fails" = 0 ] && echo "check_cli: ok"
exit "$fails"
