#!/bin/sh
# check_cuts.sh ANALYZER TRACE TMPDIR
# Runs the real heapprof-analyze on ~50 truncations of TRACE (offsets spread evenly,
# plus 0, 1, 8 and the whole file) and checks the exit status: 0 with the "no trailer"
# warning (the whole file: 0 without it), or 2 with a "heapprof-analyze: " message.
# Anything else (a signal, a sanitizer's exit status, 1) fails the test.
# So that a reader rejecting (or misreading) everything cannot pass: the whole file must
# exit 0 with the exact summary of real-small.hpt (51 allocations, 44 frees, 8890 bytes,
# 7 leaked, 20 temporaries, 2 threads), offsets 0 and 1 must exit 2, and at least one
# proper truncation must be salvaged (exit 0 with the warning).
set -u
analyze=$1 trace=$2 tmp=$3
mkdir -p "$tmp" || exit 1
size=$(wc -c <"$trace")
fail=0 n=0 ok0=0 ok2=0 salvaged=0
offsets="0 1 8 $(awk -v s="$size" 'BEGIN { for (i = 1; i < 50; i++) printf "%d ", s * i / 50 }') $size"
for off in $offsets; do
	head -c "$off" "$trace" >"$tmp/cut"
	"$analyze" --no-symbols --format json -o "$tmp/out" "$tmp/cut" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	case $rc in
	0)
		if [ "$off" -ne "$size" ] && ! grep -q 'no trailer' "$tmp/err"; then
			echo "offset $off: exit 0 without the no-trailer warning"; fail=1
		elif [ "$off" -eq "$size" ] && [ -s "$tmp/err" ]; then
			echo "whole file: unexpected diagnostics:"; cat "$tmp/err"; fail=1
		elif [ "$off" -eq "$size" ]; then
			for want in '"complete": true' '"allocations": 51,' '"frees": 44,' \
				'"allocated_bytes": 8890,' '"leaked_allocations": 7,' \
				'"temporary_allocations": 20,' '"threads": 2'; do
				if ! grep -qF "$want" "$tmp/out"; then
					echo "whole file: report lacks $want"; fail=1
				fi
			done
		else
			salvaged=$((salvaged + 1))
		fi
		if [ "$off" -le 1 ]; then
			echo "offset $off: exit 0 for a file that cannot hold a trace"; fail=1
		fi
		ok0=$((ok0 + 1)) ;;
	2)
		if [ "$off" -eq "$size" ]; then
			echo "whole file: exit 2:"; cat "$tmp/err"; fail=1
		fi
		if ! grep -q '^heapprof-analyze: ' "$tmp/err" || grep -q 'Sanitizer' "$tmp/err"; then
			echo "offset $off: exit 2 without a proper message:"; cat "$tmp/err"; fail=1
		fi
		ok2=$((ok2 + 1)) ;;
	*)
		echo "offset $off: exit status $rc"; cat "$tmp/err"
		cp "$tmp/cut" "$tmp/crash-at-$off"; fail=1 ;;
	esac
done
if [ "$salvaged" -eq 0 ]; then
	echo "no truncation was salvaged (exit 0 with the no-trailer warning)"; fail=1
fi
echo "check_cuts: $n truncations of $size bytes: $ok0 exit 0, $ok2 exit 2"
exit $fail
