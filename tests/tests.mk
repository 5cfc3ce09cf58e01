# tests/tests.mk: unit tests (cmocka), workload programs and integration tests. Included by Makefile.
#   tests/unit/test_*.c         one cmocka binary each, linked with the reader library and the
#                               test support code (tests/unit/support/*.c); a test that needs shim
#                               sources lists them in TEST_EXTRA_<name>
#   tests/workloads/*.c         programs the integration tests trace (built -O0 -g, frame pointers)
#   tests/integration/test_*.c  cmocka binaries that run workloads under the shim and check traces
#   tests/python/test_*.py      unittest scripts of python/xtrace (Debian's python3), run with
#                               the integration tests
#   tests/bench/*.c             benchmark workloads and a timing helper for `make bench` (-O2 -g,
#                               frame pointers)

TEST_CFLAGS := $(BASE_CFLAGS) -Itests/unit/support -Ishim -Wno-unused-function
TEST_LIBS := -lcmocka $(CLI_LIBS) -lunwind -ldl -lm

TEST_SUPPORT_SRC := $(wildcard tests/unit/support/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(B)/tests/integration/%)
PY_TESTS := $(wildcard tests/python/test_*.py)
WORKLOAD_SRC := $(wildcard tests/workloads/*.c)
WORKLOAD_BIN := $(patsubst tests/workloads/%.c,$(B)/workloads/%,$(filter-out tests/workloads/lib%.c,$(WORKLOAD_SRC)))
# C++ workloads are built like a real C++ program: -O2 -g, inlining on.
WORKLOAD_BIN += $(patsubst tests/workloads/%.cpp,$(B)/workloads/%,$(wildcard tests/workloads/*.cpp))
WORKLOAD_LIB := $(patsubst tests/workloads/%.c,$(B)/workloads/%.so,$(filter tests/workloads/lib%.c,$(WORKLOAD_SRC)))
# A TSan run needs the program instrumented too (the runtime comes with it, before the shim's
# threads and locks are used); the other sanitizer runs keep the workloads uninstrumented.
WORKLOAD_SAN_tsan := -fsanitize=thread
WORKLOAD_CFLAGS := -std=gnu11 -O0 -g -fno-omit-frame-pointer -fno-inline -Wall -Wextra -Werror \
	-D_GNU_SOURCE -Wno-unused-result -Wno-alloc-size-larger-than \
	$(WORKLOAD_SAN_$(SAN))

.SECONDEXPANSION:
$(B)/tests/unit/%: tests/unit/%.c $(TEST_SUPPORT_SRC) $$(TEST_EXTRA_$$*) $(READER_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_SUPPORT_SRC) $(TEST_EXTRA_$*) $(READER_A) $(TEST_LIBS)

$(B)/tests/integration/%: tests/integration/%.c $(wildcard tests/integration/*.h) $(TEST_SUPPORT_SRC) $(READER_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Itests/integration -o $@ $< $(TEST_SUPPORT_SRC) $(READER_A) $(TEST_LIBS)

$(B)/workloads/lib%.so: tests/workloads/lib%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(@D)
	$(CC) $(WORKLOAD_CFLAGS) -fPIC -shared -o $@ $<

$(B)/workloads/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(@D)
	$(CC) $(WORKLOAD_CFLAGS) -o $@ $< -pthread -ldl -lrt

WORKLOAD_CXXFLAGS := -std=gnu++17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $(WORKLOAD_SAN_$(SAN))

$(B)/workloads/%: tests/workloads/%.cpp $(wildcard tests/workloads/*.h)
	@mkdir -p $(@D)
	$(CXX) $(WORKLOAD_CXXFLAGS) -o $@ $< -ldl

# Benchmark workloads and the timing helper (tests/bench/), for `make bench` (scripts/bench.sh):
# -O2 like a real program, with frame pointers so the fp unwinder has frames to walk.
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
BENCH_CFLAGS := -std=gnu11 -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -D_GNU_SOURCE

$(B)/bench/%: tests/bench/%.c $(wildcard tests/bench/*.h)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -pthread

# tsccost times the shim's own clock read (shim/clock.c and xt_now), so it builds with them.
$(B)/bench/tsccost: tests/bench/tsccost.c shim/clock.c shim/shim.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -Ishim -Iexperiments -o $@ $< shim/clock.c

# readall reads a trace through the reader library, so it links it.
$(B)/bench/readall: tests/bench/readall.c $(READER_A)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(SANFLAGS) -Ireader -o $@ $< $(READER_A) $(READER_LIBS) -lm

# sizefloor reads traces through the reader library and compresses at the shim's zstd level.
$(B)/bench/sizefloor: tests/bench/sizefloor.c experiments/format.h experiments/columns.h $(READER_A)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(SANFLAGS) -Ireader -Iexperiments -o $@ $< $(READER_A) $(READER_LIBS) -lm

# The demo experiment (tests/demo/): the shim and the CLI built again with one more .def, as a
# new experiment would be, so a test proves the path from definition to generic decoding.
DEMO_FLAGS := -DXT_EXTRA_DEF='"tests/demo/demo.def"' -I.
DEMO_SHIM := $(B)/demo/libxtrace-demo.so
DEMO_CLI := $(B)/demo/xtrace-demo
DEMO_SHIM_OBJ := $(SHIM_SRC:%.c=$(B)/demo/%.o) $(B)/demo/shim/spec.o $(B)/demo/shim/columns.o \
	$(B)/demo/tests/demo/demo_shim.o
DEMO_CLI_OBJ := $(LIB_SRC:%.c=$(B)/demo/%.o) $(CLI_SRC:%.c=$(B)/demo/%.o)
DEMO_TARGETS := $(DEMO_SHIM) $(DEMO_CLI) $(B)/workloads/demo_prog

$(B)/demo/shim/%.o: shim/%.c tests/demo/demo.def
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) $(DEMO_FLAGS) -MMD -MP -c $< -o $@

$(B)/demo/shim/spec.o $(B)/demo/shim/columns.o: $(B)/demo/shim/%.o: experiments/%.c tests/demo/demo.def
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) $(DEMO_FLAGS) -MMD -MP -c $< -o $@

$(B)/demo/tests/demo/%.o: tests/demo/%.c tests/demo/demo.def
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) $(DEMO_FLAGS) -MMD -MP -c $< -o $@

$(B)/demo/%.o: %.c tests/demo/demo.def
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(DEMO_FLAGS) -MMD -MP -c $< -o $@

# linked as the shim is (Makefile): its small state gathered, its span known to it
$(B)/demo/shim-bulk.ld: $(DEMO_SHIM_OBJ) scripts/bulk-ld.sh
	scripts/bulk-ld.sh $(DEMO_SHIM_OBJ) > $@

$(DEMO_SHIM): $(DEMO_SHIM_OBJ) $(B)/demo/shim-bulk.ld
	$(CC) -shared -o $@ $(DEMO_SHIM_OBJ) $(SANFLAGS) $(SHIM_LIBS) -Wl,-z,nodelete -Wl,-z,now \
		-Wl,--no-undefined -Wl,-T,$(B)/demo/shim-bulk.ld

$(DEMO_CLI): $(DEMO_CLI_OBJ)
	$(CC) -o $@ $^ $(SANFLAGS) $(CLI_LIBS) -lm

$(B)/workloads/demo_prog: tests/demo/demo_prog.c
	@mkdir -p $(@D)
	$(CC) $(WORKLOAD_CFLAGS) -o $@ $< -ldl

unit: $(UNIT_BIN)
	@scripts/run-tests.sh $(UNIT_BIN)

integration: all $(INTEG_BIN) $(WORKLOAD_BIN) $(WORKLOAD_LIB) $(DEMO_TARGETS) $(BENCH_BIN)
	@XTRACE_BUILD=$(B) XTRACE_LIB=$(L) XTRACE_BIN=$(X) scripts/run-tests.sh $(INTEG_BIN) $(PY_TESTS)

# One run over unit and integration binaries: a unit failure does not hide the integration
# results, and the closing "N passed, M failed" line counts every test case.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(INTEG_BIN) $(WORKLOAD_BIN) $(WORKLOAD_LIB) $(DEMO_TARGETS) \
		$(BENCH_BIN)
	@rm -f $(B)/test-tally
	@XTRACE_TALLY=$(B)/test-tally XTRACE_BUILD=$(B) XTRACE_LIB=$(L) XTRACE_BIN=$(X) \
		scripts/run-tests.sh $(UNIT_BIN) $(INTEG_BIN) $(PY_TESTS)
ifeq ($(SAN),)
	@XTRACE_TALLY=$(CURDIR)/$(B)/test-tally $(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory fuzz-ci
endif
	@scripts/run-tests.sh --total $(B)/test-tally

# The sanitizer builds' share of the tests (scripts/sanitize.sh says what runs under which).
sanitize:
	@scripts/sanitize.sh

# Unit tests of the CLI and its analyses link the sources they test (not reader/cli/main.c).
CLI_TESTED_SRC := $(filter-out reader/cli/main.c,$(CLI_SRC))
TEST_EXTRA_test_protobuf := reader/cli/protobuf.c
TEST_EXTRA_test_unwind := shim/unwind.c shim/fderows.c
TEST_EXTRA_test_fderows := shim/unwind.c shim/fderows.c
TEST_EXTRA_test_stacktree := shim/stacktree.c shim/intern.c
TEST_EXTRA_test_intern := shim/intern.c
TEST_EXTRA_test_spec_entry := shim/specwrite.c
TEST_EXTRA_test_cli := $(CLI_TESTED_SRC)

TEST_EXTRA_test_sites := $(CLI_TESTED_SRC)
TEST_EXTRA_test_images := $(CLI_TESTED_SRC)
TEST_EXTRA_test_heaps := $(CLI_TESTED_SRC)
# report_assets.c includes the page's files (Makefile: REPORT_ASSETS).
$(B)/tests/unit/test_cli $(B)/tests/unit/test_sites $(B)/tests/unit/test_images \
	$(B)/tests/unit/test_heaps $(B)/tests/unit/test_fuzz_regressions \
	$(B)/demo/reader/cli/report_assets.o: $(REPORT_ASSETS)

# Fuzzing (tests/fuzz/): two libFuzzer targets built with clang, -fsanitize=fuzzer,address,
# undefined: fuzz_reader (the reader library) and fuzz_cli (every analysis command, in-process).
#   make fuzz [FUZZ_SECONDS=600]   the developer run: both targets at once, FUZZ_SECONDS each
#   make fuzz-ci                   the fixed check `make test` includes (FUZZ_CI_RUNS inputs each,
#                                  seed 1: the same inputs on every run of the same tree)
# Inputs found go to build-fuzz/corpus-*, crashes to build-fuzz/crash-*; a crash, once fixed,
# is kept in tests/fuzz/regressions/, which test_fuzz_regressions replays under the normal build.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_CI_RUNS ?= 12000
FUZZ_DIR := build-fuzz
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(WARN) -D_GNU_SOURCE -Iexperiments -Ireader -Itests/fuzz
FUZZ_SRC := $(LIB_SRC) $(CLI_TESTED_SRC) tests/fuzz/fuzz_targets.c
FUZZ_BIN := $(FUZZ_DIR)/fuzz_reader $(FUZZ_DIR)/fuzz_cli

$(FUZZ_BIN): $(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_SRC) $(wildcard reader/*.h reader/cli/*.h \
		reader/analysis/*.h experiments/*.h experiments/*.def tests/fuzz/*.h) $(REPORT_ASSETS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC) $(CLI_LIBS) -lm

fuzz: $(FUZZ_BIN)
	@scripts/fuzz.sh time $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-ci: $(FUZZ_BIN)
	@scripts/fuzz.sh runs $(FUZZ_CI_RUNS) $(FUZZ_BIN)

TEST_EXTRA_test_fuzz_regressions := $(CLI_TESTED_SRC) tests/fuzz/fuzz_targets.c
$(B)/tests/unit/test_fuzz_regressions: TEST_CFLAGS += -Itests/fuzz

$(B)/tests/fuzz/make_seeds: tests/fuzz/make_seeds.c tests/unit/support/tracegen.c $(READER_A)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< tests/unit/support/tracegen.c $(READER_A) $(READER_LIBS) -lm

fuzz-seeds: $(B)/tests/fuzz/make_seeds
	$(B)/tests/fuzz/make_seeds tests/fuzz/corpus
