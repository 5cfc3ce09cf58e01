#!/usr/bin/env bash
# scripts/bench.sh: the performance table of `make bench`. Runs the benchmark workloads
# (tests/bench/) untraced, with the shim loaded but not recording, under xtrace in each unwind
# mode and under heaptrack, interleaved round by round, times one clock read as the shim does
# it (tsccost) and measures the traces' size floors (sizefloor); then prints medians over the
# rounds (scripts/bench-report.py).
#
#   BENCH_ROUNDS=5        rounds (medians are taken over them)
#   BENCH_THREADS=2       threads of the main workload (mtloop)
#   BENCH_ITERS=1000000   iterations per thread of the main workload (2 heap events each)
#   BENCH_SCALE=1         0 skips the scaling rows (1 vs 2 threads; 1e5, 1e6, 1e7 events)
#   BENCH_BIG=0           1 adds one 100-million-event run: trace size, traced and reader RSS
#   BENCH_PROGRAMS=1      0 skips the real programs (perl, python3, sort, gcc) and their rows
#   BENCH_STARTS=100      runs per round of the start-up rows (/bin/true, a fork child)
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
PROGRAMS=${BENCH_PROGRAMS:-1}
STARTS=${BENCH_STARTS:-100}
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
SPAWNLOOP=$BUILD/bench/spawnloop
FORKCHILD=$BUILD/bench/forkchild
READALL=$BUILD/bench/readall
SIZEFLOOR=$BUILD/bench/sizefloor
for f in "$SHIM" "$XT" "$XTIME" "$TSCCOST" "$MTLOOP" "$MTSCALE" "$SPAWNLOOP" "$FORKCHILD" \
	"$READALL" "$SIZEFLOOR"; do
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

# size_floor KEY TRACE...: the zstd bytes of what every event must carry, layer by layer
# (KEY.floor.time, .kind, .addr, .events; tests/bench/sizefloor.c says what each adds).
size_floor() {
	local key=$1 out layer packed
	shift
	out=$("$SIZEFLOOR" "$@")
	# after the first line, the event count: "LAYER RAW_BYTES ZSTD_BYTES"
	while read -r layer _ packed; do
		record "$key.floor.$layer" "$packed"
	done < <(tail -n +2 <<<"$out")
}

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
	# without the helper thread that readies the next generation: what it buys
	"$XTIME" -o "$DIR/t" -a env XTRACE_READ_AHEAD=0 "$XT" stats "$xt" >/dev/null
	timed "$key.xtstats1" "$DIR/t"
	"$XTIME" -o "$DIR/t" -a "$XT" dump "$xt" >/dev/null
	timed "$key.xtdump" "$DIR/t"
	# the reader alone, no analysis: the floor under stats
	"$XTIME" -o "$DIR/t" -a "$READALL" "$xt" >/dev/null
	timed "$key.xtread" "$DIR/t"
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

# run_xtrace_dir KEY PROGRAM ARGS...: traces a program that may start others (each process
# writes a file of its own in the run directory $DIR/KEY.d), with full stacks (the default);
# records the size and event count over all its files (for the full runs, KEY ending in
# .dwarf; the others are timed alone). ARGS may start with NAME=VALUE settings.
run_xtrace_dir() {
	local key=$1 d=$DIR/$1.d bytes=0 events=0 n f
	shift
	rm -rf "$d"
	mkdir -p "$d"
	"$XTIME" -o "$DIR/t" env LD_PRELOAD="$SHIM" XTRACE_DIR="$d" "$@" >/dev/null
	timed "$key" "$DIR/t"
	[[ $key == *.dwarf ]] || { rm -rf "$d"; return; }
	size_floor "$key" "$d"/*.xt
	for f in "$d"/*.xt; do
		[[ -f "$f" ]] || continue
		bytes=$((bytes + $(filesize "$f")))
		"$XT" stats --json "$f" >"$DIR/stats.json"
		n=$(json_field "$DIR/stats.json" events)
		events=$((events + n))
	done
	record "$key.bytes" "$bytes"
	record "$key.events" "$events"
	rm -rf "$d"
}

# program NAME ARGS...: one real program untraced, with the shim loaded but not recording,
# traced with the calling address only (none: what the walk costs, against the next) and with
# full stacks, and under heaptrack (which follows the first process only: its preload library
# leaves the environment of the programs it starts clean).
program() {
	local name=$1
	shift
	run_untraced "prog.$name.untraced" "$@"
	run_interposed "prog.$name.interposed" "$@"
	run_xtrace_dir "prog.$name.none" XTRACE_UNWIND=none "$@"
	run_xtrace_dir "prog.$name.dwarf" "$@"
	run_heaptrack "prog.$name.heaptrack" "$@"
}

# starts: the start-up rows. /bin/true as is and traced (spawnloop alternates them), then with
# the shim loaded but not recording; a fork child of an untraced process, of a traced one and
# of one with the shim loaded but not recording.
starts() {
	local d=$DIR/start.d plain with cplain cwith
	rm -rf "$d"
	mkdir -p "$d"
	read -r plain with cplain cwith < <("$SPAWNLOOP" "$STARTS" LD_PRELOAD="$SHIM" \
		XTRACE_DIR="$d" -- /bin/true)
	record start.true.untraced.wall "$plain"
	record start.true.untraced.cpu "$cplain"
	record start.true.dwarf.wall "$with"
	record start.true.dwarf.cpu "$cwith"
	read -r plain with cplain cwith < <("$SPAWNLOOP" "$STARTS" LD_PRELOAD="$SHIM" \
		XTRACE_OUT="$DIR/absent/x.xt" -- /bin/true 2>/dev/null)
	record start.true.interposed.wall "$with"
	record start.true.interposed.cpu "$cwith"
	read -r plain cplain < <("$FORKCHILD" "$STARTS")
	read -r with cwith < <(env LD_PRELOAD="$SHIM" XTRACE_DIR="$d" "$FORKCHILD" "$STARTS")
	record start.fork.untraced.wall "$plain"
	record start.fork.untraced.cpu "$cplain"
	record start.fork.dwarf.wall "$with"
	record start.fork.dwarf.cpu "$cwith"
	read -r with cwith < <(env LD_PRELOAD="$SHIM" XTRACE_OUT="$DIR/absent/x.xt" "$FORKCHILD" \
		"$STARTS" 2>/dev/null)
	record start.fork.interposed.wall "$with"
	record start.fork.interposed.cpu "$cwith"
	rm -rf "$d"
}

# The real programs: perl building a hash of 290000 entries (about 1.4 million allocations);
# python3 through malloc (PYTHONMALLOC=malloc, so every object is a malloc call) encoding and
# decoding a dict as JSON; sort of 300000 lines; gcc compiling hello.c (driver, cc1, as).
PERL=(/usr/bin/perl -e 'my %h; for my $i (1 .. 290000) { $h{"key$i"} = [$i, "v" x ($i % 40),
	{n => $i}] } my $s = 0; $s += $_->[0] for values %h; print "$s\n"')
PYTHON=(PYTHONMALLOC=malloc /usr/bin/python3 -c 'import json
d = {str(i): {"a": i, "b": [i, str(i)], "c": {"x": i * 0.5}} for i in range(30000)}
print(len(json.loads(json.dumps(d))))')
SORT=(sort "$DIR/lines.txt")
GCC=(gcc -O2 -c "$DIR/hello.c" -o "$DIR/hello.o")

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
record meta.programs "$PROGRAMS"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ "$rev" == unknown ]] || git diff --quiet HEAD -- 2>/dev/null || rev="$rev+changes"
record meta.rev "$rev"

scaling=" and the scaling runs"
[[ "$SCALE" != 0 ]] || scaling=""
[[ "$PROGRAMS" == 0 ]] || scaling="$scaling, perl, python3, sort, gcc"
if [[ "$PROGRAMS" != 0 ]]; then
	# 300000 lines of a fixed pseudo-random order, and a C file, for sort and gcc
	awk 'BEGIN { x = 1; for (i = 0; i < 300000; i++) { x = (x * 1103515245 + 12345) % 2147483648
		printf "%010d line %d\n", x, i } }' >"$DIR/lines.txt"
	printf '#include <stdio.h>\nint main(void)\n{\n\tputs("hello");\n\treturn 0;\n}\n' \
		>"$DIR/hello.c"
fi
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
	size_floor main.dwarf "$DIR/main.dwarf.xt"
	# the default written plain: what compressing on the shim's thread costs, and saves
	run_xtrace main.plain dwarf XTRACE_COMPRESS=0 "$MTLOOP" "$THREADS" "$ITERS"
	rm -f "$DIR/main.plain.xt"
	run_heaptrack main.heaptrack "$MTLOOP" "$THREADS" "$ITERS"
	analyse main "$DIR/main.dwarf.xt" "$DIR/main.heaptrack.zst"
	# production settings: sampled by bytes, and loaded but switched off
	run_xtrace_dir main.sample XTRACE_SAMPLE=524288 "$MTLOOP" "$THREADS" "$ITERS"
	run_xtrace_dir main.stopped XTRACE_START=stopped "$MTLOOP" "$THREADS" "$ITERS"
	starts

	if [[ "$PROGRAMS" != 0 ]]; then
		program perl "${PERL[@]}"
		run_xtrace_dir prog.perl.sample XTRACE_SAMPLE=524288 "${PERL[@]}"
		run_xtrace_dir prog.perl.stopped XTRACE_START=stopped "${PERL[@]}"
		program python3 "${PYTHON[@]}"
		program sort "${SORT[@]}"
		program gcc "${GCC[@]}"
	fi

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
