#!/usr/bin/env bash
# scripts/deps.sh: installs the Debian packages xtrace needs to build, test and benchmark.
# Quiet when everything is present; `apt-get update` runs at most once, and only when something
# is missing, so repeated `make test` runs stay offline and fast.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# build-essential/gcc/make/pkg-config: the build; libunwind, libxxhash: the shim; libdw, libelf:
# the reader's symbolizer; libiberty: its C++ demangler; libcmocka: tests; python3: JSON checks; strace: syscall tests;
# heaptrack, zstd: `make bench` (heaptrack compresses its trace with zstd when it is present);
# chromium, python3-websocket: the test that uses `xtrace report`'s page in headless Chromium
# through the DevTools protocol (tests/integration/report_browser.py); clang, libclang-rt-14-dev:
# the fuzz targets (libFuzzer and the sanitizer runtimes); perl, git: the real-programs test
# (perl also `make bench`'s program rows, with python3, gcc and sort);
# heaptrack, valgrind: the oracles test (test_oracles), which compares their numbers with
# xtrace's; zlib1g-dev: the CLI gzips its pprof export; golang-go (go tool pprof),
# python3-jsonschema: the export tests read the pprof and speedscope outputs with the tools that
# consume them; python3-pandas: the test of python/xtrace's to_dataframe; libzstd-dev: the shim
# compresses each generation and the reader decompresses it.
PACKAGES=(build-essential gcc make pkg-config libunwind-dev libxxhash-dev libcmocka-dev
	libdw-dev libelf-dev libiberty-dev python3 strace heaptrack zstd chromium python3-websocket clang
	libclang-rt-14-dev perl git valgrind zlib1g-dev golang-go python3-jsonschema python3-pandas libzstd-dev)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$p")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO=(sudo -n)
else
	echo "deps: missing packages and no root; run as root:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
	exit 1
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}"
