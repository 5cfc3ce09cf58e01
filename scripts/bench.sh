#!/usr/bin/env bash
# scripts/bench.sh: the performance table of `make bench`. Runs the benchmark workloads
# (tests/bench/) untraced, with the shim loaded but not recording, under xtrace in each unwind
# mode and under heaptrack, interleaved round by round, and times one clock read as the shim
# does it (tsccost); then prints medians over the rounds (scripts/bench-report.py).
#
#   BENCH_ROUNDS=5        rounds (medians are taken over them)
#   BENCH_THREADS=2       threads of the main workload (mtloop)
#   BENCH_ITERS=1000000   iterations per thread of the main workload (2 heap events each)
#   BENCH_SCALE=1         0 skips the scaling rows (1 vs 2 threads; 1e5, 1e6, 1e7 events)
#   BENCH_BIG=0           1 adds one 100-million-event run: trace size, traced and reader RSS
#   BENCH_DIR=build/bench/run   where traces and raw measurements go (bench.tsv stays there)
#
# Expects `make all` and the tests/bench/ programs built (`make bench` does both); installs
# heaptrack and zstd through scripts/deps.sh when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${XTRACE_BUILD:-build}
LIBDIR=${XTRACE_LIB:-lib}
BINDIR=${XTRACE_BIN:-bin}
ROUNDS=${BENCH_ROUNDS:-5}
THREADS=${BENCH_THREADS:-2}
ITERS=${BENCH_ITERS:-1000000}
SCALE=${BENCH_SCALE:-1}
BIG=${BENCH_BIG:-0}
DIR=${BENCH_DIR:-$BUILD/bench/run}

# the directories may be given relative to the repository or absolute
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
[[ $LIBDIR == /* ]] || LIBDIR=$ROOT/$LIBDIR
[[ $BINDIR == /* ]] || BINDIR=$ROOT/$BINDIR
SHIM=$LIBDIR/libxtrace.so
XT=$BINDIR/xtrace
XTIME=$BUILD/bench/xtime
TSCCOST=$BUILD/bench/tsccost
MTLOOP=$BUILD/bench/mtloop
MTSCALE=$BUILD/bench/mtscale
for f in "$SHIM" "$XT" "$XTIME" "$TSCCOST" "$MTLOOP" "$MTSCALE"; do
	[[ -x "$f" || -f "$f" ]] || { echo "bench: $f is missing; run 'make bench'" >&2; exit 1; }
done

if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null ||
	! command -v zstd >/dev/null; then
	scripts/deps.sh
fi
# heaptrack's launcher script is replicated below (a FIFO, heaptrack_interpret | zstd, the
# program with libheaptrack_preload.so), so the traced process and the interpreter process are
# timed separately; the paths are the ones the launcher derives from its own location.
HT_PREFIX=$(dirname "$(readlink -f "$(command -v heaptrack)")")/..
HT_PRELOAD=$(readlink -f "$HT_PREFIX/lib/heaptrack/libheaptrack_preload.so")
HT_INTERPRET=$(readlink -f "$HT_PREFIX/lib/heaptrack/libexec/heaptrack_interpret")
[[ -f "$HT_PRELOAD" && -x "$HT_INTERPRET" ]] || {
	echo "bench: heaptrack's preload library or interpreter not found under $HT_PREFIX" >&2
	exit 1
}

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
TSV=$DIR/bench.tsv
: >"$TSV"

# record KEY VALUE: one raw measurement (bench-report.py takes medians per KEY).
record() { printf '%s\t%s\n' "$1" "$2" >>"$TSV"; }

# timed KEY XTIME-OUTPUT: records wall, cpu (user+sys), peak RSS and, when xtime ran with -a,
# peak anonymous RSS (the reader maps its input: maxrss counts the mapped file pages too).
timed() {
	local key=$1 wall user sys rss rc anon
	read -r wall user sys rss rc anon <"$2"
	if [[ "$rc" != 0 ]]; then
		echo "bench: $key exited with status $rc" >&2
		exit 1
	fi
	record "$key.wall" "$wall"
	record "$key.cpu" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.6f", u + s }')"
	record "$key.rss" "$rss"
	[[ "${anon:-0}" == 0 ]] || record "$key.anon" "$anon"
}

# json_field FILE KEY: one top-level number from `xtrace stats --json`.
json_field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

filesize() { stat -c %s "$1"; }

# run_untraced KEY PROGRAM ARGS...
run_untraced() {
	local key=$1
	shift
	"$XTIME" -o "$DIR/t" env "$@" >/dev/null
	timed "$key" "$DIR/t"
}

# run_interposed KEY PROGRAM ARGS...: the shim loaded but not recording (its trace file cannot
# be created, so it says so once and passes every call through): the cost of interposing alone.
run_interposed() {
	local key=$1
	shift
	"$XTIME" -o "$DIR/t" env LD_PRELOAD="$SHIM" XTRACE_OUT="$DIR/absent/x.xt" "$@" \
		>/dev/null 2>&1
	timed "$key" "$DIR/t"
}

# run_xtrace KEY MODE PROGRAM ARGS...: traces into $DIR/KEY.xt (kept for the analysis steps)
# and records its size, its size after zstd, and its event count.
run_xtrace() {
	local key=$1 mode=$2 trace
	shift 2
	trace=$DIR/$key.xt
	rm -f "$trace"
	"$XTIME" -o "$DIR/t" env LD_PRELOAD="$SHIM" XTRACE_UNWIND="$mode" XTRACE_OUT="$trace" \
		"$@" >/dev/null
	timed "$key" "$DIR/t"
	[[ -f "$trace" ]] || { echo "bench: no trace $trace" >&2; exit 1; }
	record "$key.bytes" "$(filesize "$trace")"
	"$XTIME" -o "$DIR/t" -a "$XT" stats --json "$trace" >"$DIR/stats.json"
	timed "$key.stats" "$DIR/t"
	record "$key.events" "$(json_field "$DIR/stats.json" events)"
}

# run_heaptrack KEY PROGRAM ARGS...: what the heaptrack launcher does, with the traced program
# (KEY.app) and heaptrack_interpret | zstd (KEY.interp) timed apart and the whole (KEY: wall
# until the compressed file is complete, cpu of every process) around both.
run_heaptrack() {
	local key=$1
	shift
	local fifo=$DIR/heaptrack.fifo out=$DIR/$key.zst
	rm -f "$fifo" "$out"
	mkfifo "$fifo"
	"$XTIME" -o "$DIR/t" bash -c '
		xtime=$1 dir=$2 fifo=$3 out=$4 interp=$5 preload=$6
		shift 6
		"$xtime" -o "$dir/t.interp" sh -c "\"\$0\" <\"\$1\" | zstd -c -q >\"\$2\"" \
			"$interp" "$fifo" "$out" 2>"$dir/heaptrack.log" &
		rc=0
		"$xtime" -o "$dir/t.app" env LD_PRELOAD="$preload" DUMP_HEAPTRACK_OUTPUT="$fifo" \
			"$@" >/dev/null || rc=$?
		# a program that never opened the FIFO would leave the interpreter waiting
		[[ $rc == 0 ]] || : >"$fifo"
		wait
		exit $rc' bench "$XTIME" "$DIR" "$fifo" "$out" "$HT_INTERPRET" "$HT_PRELOAD" "$@"
	timed "$key" "$DIR/t"
	timed "$key.app" "$DIR/t.app"
	timed "$key.interp" "$DIR/t.interp"
	rm -f "$fifo"
	record "$key.bytes" "$(filesize "$out")"
	record "$key.rawbytes" "$(zstd -dc -q "$out" | wc -c)"
}

# analyse KEY XT-TRACE HEAPTRACK-FILE: reader speed and memory on the same run's traces.
analyse() {
	local key=$1 xt=$2 ht=$3
	"$XTIME" -o "$DIR/t" -a "$XT" stats "$xt" >/dev/null
	timed "$key.xtstats" "$DIR/t"
	"$XTIME" -o "$DIR/t" -a "$XT" dump "$xt" >/dev/null
	timed "$key.xtdump" "$DIR/t"
	# python/xtrace: every event of the trace, its stack left unresolved, then resolved (not for
	# the 100-million-event run: minutes a pass)
	for stacks in 0 1; do
		[[ $key != big ]] || break
		"$XTIME" -o "$DIR/t" -a env PYTHONPATH="$ROOT/python" \
			XTRACE_READER_LIB="$LIBDIR/libxtrace-reader.so" /usr/bin/python3 -c "$PY_EVENTS" \
			"$xt" "$stacks"
		timed "$key.pyevents$stacks" "$DIR/t"
	done
	if [[ -n "$ht" ]]; then
		"$XTIME" -o "$DIR/t" -a heaptrack_print "$ht" >/dev/null
		timed "$key.htprint" "$DIR/t"
	fi
}

# PY_EVENTS reads every event of the trace argv[1] with python/xtrace, argv[2] 1: with stacks.
PY_EVENTS='import sys, xtrace
for _ in xtrace.open(sys.argv[1]).events(stacks=sys.argv[2] == "1"): pass'

# dwarf is the default walk; libunwind alone shows what the cached DWARF walk saves.
MODES=(dwarf libunwind fp none)
SCALE_CONFIGS=("1 1e6" "2 1e5" "2 1e6" "2 1e7")

record meta.threads "$THREADS"
record meta.iters "$ITERS"
record meta.rounds "$ROUNDS"
record meta.big "$BIG"
record meta.scale "$SCALE"
record meta.cpus "$(nproc)"
record meta.cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
record meta.kernel "$(uname -r)"
record meta.glibc "$(ldd --version 2>&1 | head -1 | sed 's/^ldd //')"
record meta.heaptrack "$(heaptrack --version 2>&1 | head -1)"
record meta.load "$(cut -d' ' -f1-3 /proc/loadavg)"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ "$rev" == unknown ]] || git diff --quiet HEAD -- 2>/dev/null || rev="$rev+changes"
record meta.rev "$rev"

scaling=" and the scaling runs"
[[ "$SCALE" != 0 ]] || scaling=""
echo "bench: $ROUNDS rounds of mtloop $THREADS x $ITERS (untraced, interposed only, xtrace ${MODES[*]}," \
	"heaptrack)$scaling; raw data in $TSV" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	echo "bench: round $r/$ROUNDS" >&2
	run_untraced main.untraced "$MTLOOP" "$THREADS" "$ITERS"
	run_interposed main.interposed "$MTLOOP" "$THREADS" "$ITERS"
	record floor.clock_ns "$("$TSCCOST" | cut -d' ' -f1)"
	for m in "${MODES[@]}"; do
		run_xtrace "main.$m" "$m" "$MTLOOP" "$THREADS" "$ITERS"
		record "main.$m.zbytes" "$(zstd -c -q "$DIR/main.$m.xt" | wc -c)"
	done
	run_heaptrack main.heaptrack "$MTLOOP" "$THREADS" "$ITERS"
	analyse main "$DIR/main.dwarf.xt" "$DIR/main.heaptrack.zst"

	if [[ "$SCALE" != 0 ]]; then
		for c in "${SCALE_CONFIGS[@]}"; do
			read -r t e <<<"$c"
			run_untraced "scale.$t.$e.untraced" "$MTSCALE" "$t" "$e"
			for m in "${MODES[@]}"; do
				run_xtrace "scale.$t.$e.$m" "$m" "$MTSCALE" "$t" "$e"
			done
			rm -f "$DIR"/scale.*.xt
		done
	fi
done

if [[ "$BIG" != 0 ]]; then
	# 100 million events: 2 threads x 25 million iterations. Once, not per round.
	echo "bench: the 100-million-event run" >&2
	big_iters=$((50000000 / THREADS))
	run_untraced big.untraced "$MTLOOP" "$THREADS" "$big_iters"
	run_xtrace big.dwarf dwarf "$MTLOOP" "$THREADS" "$big_iters"
	analyse big "$DIR/big.dwarf.xt" ""
	rm -f "$DIR/big.dwarf.xt"
fi

python3 "$ROOT/scripts/bench-report.py" "$TSV"
