#!/usr/bin/env bash
# Makes the vectors of tests/unit/test_demangle_rust.c from a real compiler's symbols and
# a real demangler's output, never from heapprof's:
#
#   tests/unit/demangle_rust/gen.sh             prints the table's rows
#   tests/unit/demangle_rust/gen.sh --update    rewrites the table in test_demangle_rust.c
#   tests/unit/demangle_rust/gen.sh --all FILE  writes every Rust symbol of the programs
#       built, a tab and its reference name ("-": rejected) to FILE, for a bulk check:
#       build/bin/test_demangle_rust FILE
#
# Needs Debian's rustc and rustc-demangle and binutils (RUSTC=... for another compiler):
#   apt-get install -y rustc librust-rustc-demangle-dev binutils
# What it does, in a temporary directory:
#   rustc -g -C opt-level=0 -C overflow-checks=off vectors.rs           (legacy mangling)
#   rustc ... -C symbol-mangling-version=v0 vectors.rs                   (v0)
#   RUSTC_BOOTSTRAP=1 rustc ... -C symbol-mangling-version=v0 unstable.rs
#   nm on the three programs: every _ZN... and _R... symbol, defined or not
#   the reference: reference.rs built against Debian's rustc-demangle source
#     (/usr/share/cargo/registry/rustc-demangle-*), its alternate format ({:#}) without
#     the vendor suffix; handmade.txt's symbols go through it too
#   a cross-check: binutils' c++filt of each symbol, with what c++filt adds removed
#     (crate disambiguators `[1a2b]`, legacy `::h<hash>`, const types `7: i32`, vendor
#     suffixes it already drops); each disagreement is printed on stderr
#   the rows: each distinct name of vectors.rs and unstable.rs per mangling, the first of
#     std's symbols for each feature of FEATURES below, and handmade.txt's symbols.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
test_c=$here/../test_demangle_rust.c

mode=print all_file=
case ${1:-} in
--update) mode=update ;;
--all) mode=all all_file=$(realpath -m "${2:?--all needs a file}") ;;
'') ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 1 ;;
esac

rustc=${RUSTC:-$(command -v /usr/bin/rustc || command -v rustc || true)}
demangle_src=$(ls -d /usr/share/cargo/registry/rustc-demangle-*/src 2>/dev/null | sort -V | tail -n 1)
[ -n "$rustc" ] || { echo "gen.sh: rustc is needed (apt-get install rustc)" >&2; exit 1; }
[ -n "$demangle_src" ] ||
	{ echo "gen.sh: rustc-demangle is needed (apt-get install librust-rustc-demangle-dev)" >&2; exit 1; }
command -v c++filt >/dev/null || { echo "gen.sh: c++filt is needed (binutils)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/demangle-rust.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
flags=(-g -C opt-level=0 -C overflow-checks=off)
"$rustc" "${flags[@]}" --crate-name vectors "$here/vectors.rs" -o legacy
"$rustc" "${flags[@]}" -C symbol-mangling-version=v0 --crate-name vectors "$here/vectors.rs" -o v0
# Its features are those of rustc 1.63; a later rustc renamed some of them.
if ! RUSTC_BOOTSTRAP=1 "$rustc" "${flags[@]}" -C symbol-mangling-version=v0 --crate-name unstable \
	"$here/unstable.rs" -o unstable 2>unstable.log; then
	echo "gen.sh: unstable.rs does not build with $rustc, skipped:" >&2
	grep -m 3 '^error' unstable.log >&2 || true
fi
"$rustc" -O --edition 2015 --crate-type rlib --crate-name rustc_demangle --cap-lints allow \
	"$demangle_src/lib.rs" -o librustc_demangle.rlib
"$rustc" -O --extern rustc_demangle=librustc_demangle.rlib "$here/reference.rs" -o reference

for b in legacy v0 unstable; do
	[ -e "$b" ] || { : >"$b.syms"; continue; }
	nm "$b" | awk '{ print $NF }' | grep -E '^_(ZN|R)' | sort -u >"$b.syms"
done
grep -v '^#' "$here/handmade.txt" | grep . >handmade.syms
for f in legacy v0 unstable handmade; do
	./reference <"$f.syms" >"$f.ref"
	# c++filt prints disambiguators, hashes and const types that {:#} leaves out.
	c++filt <"$f.syms" | sed -E 's/([A-Za-z0-9_])\[[0-9a-f]+\]/\1/g; s/::h[0-9a-f]{16}$//;
		s/: (i8|i16|i32|i64|i128|isize|u8|u16|u32|u64|u128|usize|bool|char)([],>;)])/\2/g' >"$f.filt"
	paste "$f.syms" "$f.ref" "$f.filt" | awk -F'\t' -v f="$f" '$2 != "-" && $2 != $3 {
		printf "gen.sh: %s: c++filt differs: %s\n  rustc-demangle: %s\n  c++filt:       %s\n",
			f, $1, $2, $3 > "/dev/stderr" }'
done

if [ $mode = all ]; then
	cat legacy.syms v0.syms unstable.syms | sort -u >all.syms
	./reference <all.syms | paste all.syms - >"$all_file"
	echo "gen.sh: $(wc -l <"$all_file") symbols in $all_file"
	exit 0
fi

# std's symbols worth a row: the first (in byte order) whose mangled name matches.
FEATURES=(
	'^_ZN.*\$LT\$.*\$GT\$' '^_ZN.*\$RF\$' '^_ZN.*\$BP\$' '^_ZN.*\$C\$' '^_ZN.*\$LP\$.*\$RP\$'
	'^_ZN.*\$SP\$' '^_ZN.*\$u20\$' '^_ZN.*\$u7b\$.*\$u7d\$' '^_ZN.*\$u27\$' '^_ZN.*[0-9]_\$'
	'^_ZN.*E\.llvm\.' '^_ZN.*E\.[0-9]+$' '^_R.*\.llvm\.' '^_R.*\.[0-9]+$' '^_R.*NS'
	'^_R.*NvY' '^_R.*Dp'
)
{
	for f in legacy v0 unstable; do
		paste "$f.syms" "$f.ref" | awk -F'\t' '$2 != "-" && $2 ~ /(^|<)(vectors|unstable)::/' |
			sort -t$'\t' -k2,2 -k1,1 | awk -F'\t' '!seen[$2]++'
		for re in "${FEATURES[@]}"; do
			paste "$f.syms" "$f.ref" | grep -E -- "$re" |
				awk -F'\t' '$2 != "-" && $2 !~ /(^|<)(vectors|unstable)::/ && !n++' || true
		done | sort -u
	done
	paste handmade.syms handmade.ref
} | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/??/?\\?/g' | awk -F'\t' '{
	printf "\t{\"%s\", %s},\n", $1, $2 == "-" ? "NULL" : "\"" $2 "\""
}' >rows

if [ $mode = print ]; then
	cat rows
	exit 0
fi
begin='^/\* BEGIN vectors made by demangle_rust/gen.sh'
end='^/\* END vectors'
grep -q "$begin" "$test_c" && grep -q "$end" "$test_c" ||
	{ echo "gen.sh: no vector markers in $test_c" >&2; exit 1; }
awk -v rows="$work/rows" -v b="$begin" -v e="$end" '
	$0 ~ b { print; print "// clang-format off"; print "static const struct vector vectors[] = {";
		while ((getline l < rows) > 0) print l; print "};"; print "// clang-format on"; skip = 1; next }
	$0 ~ e { skip = 0 }
	!skip' "$test_c" >"$work/test.c"
cp "$work/test.c" "$test_c"
echo "gen.sh: $(wc -l <rows) vectors written to $test_c"
