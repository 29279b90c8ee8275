#!/bin/sh
# heapprof-analyze's command line: exit status and messages for bad and good input.
#   cli.sh ANALYZE MAKE_TRACE
# Exit status 0 when every check passes; each failure is printed.
set -u
analyze=$1
make_trace=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapprof-cli.XXXXXX") || exit 1
trap 'rm -rf -- "$tmp"' EXIT
"$make_trace" "$tmp" || { echo "FAIL: make_trace"; exit 1; }
failed=0

# expect NAME STATUS PATTERN -- ARGS...: runs the analyzer, checks its status and that its
# stdout+stderr matches the grep -E PATTERN (empty: no check).
expect() {
	name=$1 want=$2 pattern=$3
	shift 4
	"$analyze" "$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $name: exit status $got, expected $want"
		sed 's/^/    /' "$tmp/out"
		failed=$((failed + 1))
	elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/out"; then
		echo "FAIL: $name: output does not match /$pattern/"
		sed 's/^/    /' "$tmp/out"
		failed=$((failed + 1))
	else
		echo "ok: $name"
	fi
}

# A copy of valid.zst cut 3 bytes into its end: the last frame (the exit records) is lost.
size=$(wc -c <"$tmp/valid.zst")
head -c $((size - 3)) "$tmp/valid.zst" >"$tmp/truncated.zst"

expect "missing file" 2 "cannot open '$tmp/missing\.zst': No such file" -- "$tmp/missing.zst"
expect "empty file" 2 "'$tmp/empty\.zst' is not a heapprof trace: .*empty" -- "$tmp/empty.zst"
expect "random bytes" 2 "'$tmp/random\.bin' is not a heapprof trace" -- "$tmp/random.bin"
expect "valid trace" 0 "^summary" -- "$tmp/valid.zst"
expect "valid trace, json" 0 '"definitely_lost": \{"bytes": 100, "blocks": 1\}' -- \
	--format json "$tmp/valid.zst"
expect "progress forced into a log" 0 " 100% [0-9.]+ [KMG]?i?B" -- --progress "$tmp/valid.zst"
expect "truncated trace" 0 "warning: '$tmp/truncated\.zst' has no trailer" -- "$tmp/truncated.zst"
expect "unknown option" 1 "unknown option '--no-such-option'" -- --no-such-option "$tmp/valid.zst"
expect "no trace" 1 "no trace given" --
expect "bad format" 1 "unknown format" -- --format xml "$tmp/valid.zst"
expect "bad size" 1 "invalid size" -- --max-peak lots "$tmp/valid.zst"
expect "missing suppressions" 2 "missing\.supp" -- --suppressions "$tmp/missing.supp" "$tmp/valid.zst"
expect "help" 0 "exit status" -- --help
for code in 0 1 2 3; do
	expect "help: exit status $code" 0 "^  $code  " -- --help
done
expect "fail-on-leaks" 3 "check failed: definitely lost 100 B in 1 block" -- \
	--leaks --fail-on-leaks "$tmp/valid.zst"
expect "fail-on-leaks=possible" 0 "" -- --leaks --fail-on-leaks=possible "$tmp/valid.zst"
expect "max-peak" 3 "check failed: peak heap" -- --max-peak 100 "$tmp/valid.zst"
expect "unreadable beats check" 2 "" -- --fail-on-leaks "$tmp/valid.zst" "$tmp/random.bin"
expect "lsan format" 0 "Direct leak of 100 byte\(s\) in 1 object\(s\)" -- \
	--format lsan "$tmp/valid.zst"
expect "dump suppressions" 0 '^suppressions t=6000 text=leak:never_matches_anything\\nleak:nor_this\\n$' -- \
	--dump "$tmp/valid.zst"
expect "dump leak_scan" 0 "^leak_scan t=7000 flags=0 definite=100/1 " -- --dump "$tmp/valid.zst"

if [ "$failed" -ne 0 ]; then
	echo "$failed check(s) failed"
	exit 1
fi
echo "all passed"
