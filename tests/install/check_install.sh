#!/bin/sh
# Installs this build into a temporary prefix, then builds examples/leakcheck against
# it the way a user's project would (find_package(heapprof)), and checks pkg-config's
# view and that the project's leaking test fails while its clean tests pass.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapprof-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null || fail "cmake --install"
for f in bin/heapprof bin/heapprof-analyze lib/libheapprof.so include/heapprof/heapprof.h \
	lib/cmake/heapprof/heapprof-config.cmake lib/pkgconfig/heapprof.pc; do
	[ -e "$tmp/prefix/$f" ] || fail "$f not installed"
done
preload=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --variable=preload heapprof)
[ "$(realpath -- "$preload")" = "$(realpath -- "$tmp/prefix/lib/libheapprof.so")" ] ||
	fail "pkg-config preload is '$preload'"

cmake -S "$src/examples/leakcheck" -B "$tmp/example" \
	-Dheapprof_DIR="$tmp/prefix/lib/cmake/heapprof" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "configuring the example against the installed package"; }
cmake --build "$tmp/example" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "building the example"; }
cd "$tmp/example"
ctest >"$tmp/ctest.log" 2>&1 && fail "ctest passed, but the leaky test must fail"
grep -q "Test *#[0-9]*: leaky .*Failed" "$tmp/ctest.log" || { cat "$tmp/ctest.log"; fail "leaky did not fail"; }
for t in tidy tidy_existing; do
	grep -q "Test *#[0-9]*: $t .*Passed" "$tmp/ctest.log" || { cat "$tmp/ctest.log"; fail "$t did not pass"; }
done
echo "ok: installed heapprof works through find_package and pkg-config"
