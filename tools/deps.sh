# Sourced by tools/check and tools/demo: the Debian 12 packages heapprof needs to build,
# test and demo, and a function installing whichever are missing. Nothing is touched
# (not even apt-get update) when all are present.

# gcc g++ make: the toolchain; cmake pkg-config: the build; libunwind-dev: the recorder's
# unwinder; libzstd-dev zstd: trace compression; libdw-dev libelf-dev: the analyzer's
# symbolizer; zlib1g-dev: the gzip of heapprof-analyze --pprof; golang-go: `go tool
# pprof`, which the export tests read the pprof files with; python3: the preload tests'
# checker; valgrind heaptrack: tests compare against them (and ms_print and dh_view.js
# read the --massif and --dhat exports); chromium: runs dh_view.js in the --dhat test;
# clang: sanitizer and fuzz builds; file git sqlite3 perl: test tooling;
# ripgrep fd-find rustc cargo librust-tokio-dev openjdk-17-jdk-headless nodejs: the
# runtimes of the real-program suite (Rust programs, two built by the tests, one of them
# a tokio server, the JVM, node); redis-server redis-tools memcached libmemcached-tools
# nginx wrk: the server tests (tests/server) and bench/servers; gdb: heapprof -p (attach)
# and its tests; chromium: the HTML report's tests load it in headless Chromium.
HEAPPROF_DEPS=(
	gcc g++ make libc6-dev cmake pkg-config
	libunwind-dev libzstd-dev libdw-dev libelf-dev zstd zlib1g-dev golang-go chromium
	python3 valgrind heaptrack clang libclang-rt-dev clang-format file git sqlite3 perl libjemalloc-dev
	ripgrep fd-find rustc cargo librust-tokio-dev openjdk-17-jdk-headless nodejs
	redis-server redis-tools memcached libmemcached-tools nginx wrk gdb chromium
)

hp_missing_deps()
{
	local installed
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${HEAPPROF_DEPS[@]}" 2>/dev/null |
		awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }') || true
	local pkg
	for pkg in "${HEAPPROF_DEPS[@]}"; do
		grep -qx -- "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
	done
}

# Installs the missing packages with apt-get: as root, else through sudo when there is one.
hp_install_deps()
{
	local missing sudo=()
	mapfile -t missing < <(hp_missing_deps)
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			echo "heapprof: missing packages: ${missing[*]}" >&2
			echo "heapprof: run as root: apt-get install -y ${missing[*]}" >&2
			return 1
		fi
	fi
	echo "heapprof: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >/dev/null &&
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{
			echo "heapprof: apt-get install failed" >&2
			return 1
		}
}

# Configures and builds into $1 (default build), all targets or those named after it;
# the log is shown only on failure.
hp_build()
{
	local dir=${1:-build} log targets=()
	shift || true
	[ $# -gt 0 ] && targets=(--target "$@")
	log=$(mktemp)
	if ! cmake -S . -B "$dir" -DHEAPPROF_WERROR=ON >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "heapprof: configuring failed" >&2
		return 1
	fi
	if ! cmake --build "$dir" -j"$(nproc)" "${targets[@]}" >"$log" 2>&1; then
		{ grep -E 'error|Error' "$log" || tail -n 50 "$log"; } | head -n 40 >&2
		rm -f "$log"
		echo "heapprof: build failed (cmake --build $dir for the full log)" >&2
		return 1
	fi
	rm -f "$log"
}
