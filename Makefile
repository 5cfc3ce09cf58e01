# xtrace: one Makefile for the shim, the reader library, the CLI, tests, demo and benchmarks.
#   make          build lib/libxtrace.so, lib/libxtrace-reader.{so,a}, bin/xtrace
#   make demo     install missing Debian packages, build, trace an example and print its stats
#   make test     install missing Debian packages, build, run every test
#   make bench    performance table against the untraced program and heaptrack
#   SAN=asan|ubsan|tsan selects a sanitizer build (into build-$(SAN)/, lib-$(SAN)/, bin-$(SAN)/).

CC ?= cc
OPT ?= -O2
SAN ?=
PREFIX ?= /usr/local
# python/xtrace goes where Debian's python3 looks under $(PREFIX) when that is /usr/local
# (lib/python3.X/dist-packages); it finds libxtrace-reader.so three directories up, in $(PREFIX)/lib.
PYTHON_DIR ?= $(PREFIX)/lib/python$(shell /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages

ifeq ($(SAN),)
B := build
L := lib
X := bin
SANFLAGS :=
else
B := build-$(SAN)
L := lib-$(SAN)
X := bin-$(SAN)
SANFLAGS_asan := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANFLAGS_ubsan := -fsanitize=undefined -fno-sanitize-recover=undefined
SANFLAGS_tsan := -fsanitize=thread
SANFLAGS := $(SANFLAGS_$(SAN)) -fno-omit-frame-pointer
endif
# Under ASan or TSan the shim's malloc, mmap and signal entry points (malloc.c, addrspace.c,
# signals.c) and the lookup of the real functions (real.c) are built without that sanitizer:
# the runtime and the libraries it loads call them before the runtime is up, and those calls
# must pass through untouched (shim/lifecycle.h).
SHIM_NOSAN_asan := -fno-sanitize=address
SHIM_NOSAN_tsan := -fno-sanitize=thread
SHIM_SANDEF_asan := -DXT_SANITIZED
SHIM_SANDEF_tsan := -DXT_SANITIZED -DXT_SANITIZED_THREADS

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE -Iexperiments -Ireader $(SANFLAGS) $(CFLAGS)
# The shim runs inside other programs: no sanitizer runtime of its own unless asked, hidden
# symbols, frame pointers for the fp unwinder, no stack protector calls on the hot path, each
# variable in a section of its own (so the link can gather the small ones: scripts/bulk-ld.sh).
SHIM_CFLAGS := -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE -Iexperiments -Ishim -fPIC \
	-fvisibility=hidden -fno-omit-frame-pointer -ftls-model=initial-exec -fdata-sections $(SANFLAGS) \
	$(SHIM_SANDEF_$(SAN)) $(CFLAGS)
# Every shared library the shim needs is loaded into every traced process, a few page faults
# each: zstd is linked in (Debian's archive is position-independent; --exclude-libs keeps its
# symbols the shim's own, never bound by a program), libunwind is opened when a stack first
# needs it (shim/unwlib.c), and libm is not needed.
SHIM_LIBS := -Wl,-Bstatic -lzstd -Wl,-Bdynamic -Wl,--exclude-libs,libzstd.a -ldl -pthread
# libiberty (a static archive) demangles C++ and Rust names; the shared reader keeps its symbols
# to itself (--exclude-libs), so a program with an xmalloc of its own still links.
READER_LIBS := -ldw -lelf -liberty -lzstd -pthread
# zlib: the CLI gzips the pprof export.
CLI_LIBS := $(READER_LIBS) -lz

SHIM_SRC := $(wildcard shim/*.c)
READER_SRC := $(wildcard reader/*.c) experiments/spec.c experiments/columns.c
# The analyses (and the writer they print JSON through) are in the library as well as the CLI:
# reader/xtrace-analysis.h gives the CLI's stats and top to other programs (python/xtrace).
ANALYSIS_SRC := $(wildcard reader/analysis/*.c) reader/cli/output.c
LIB_SRC := $(READER_SRC) $(ANALYSIS_SRC)
CLI_SRC := $(filter-out $(ANALYSIS_SRC),$(wildcard reader/cli/*.c))

# The shim carries the spec table too (signal handlers' deferred events, the Specs batch), and
# the column form of a compressed generation, built as shim code: hidden, with the shim's flags.
SHIM_OBJ := $(SHIM_SRC:%.c=$(B)/pic/%.o) $(B)/pic/shim/spec.o $(B)/pic/shim/columns.o
READER_PIC := $(LIB_SRC:%.c=$(B)/pic/%.o)
READER_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)

SHIM_SO := $(L)/libxtrace.so
READER_SO := $(L)/libxtrace-reader.so
READER_A := $(L)/libxtrace-reader.a
CLI := $(X)/xtrace

.PHONY: all deps demo test unit integration bench fuzz fuzz-ci fuzz-seeds sanitize clean install
all: $(SHIM_SO) $(READER_SO) $(READER_A) $(CLI)

$(B)/pic/shim/%.o: shim/%.c $(wildcard shim/*.h experiments/*.h experiments/*.def)
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/shim/spec.o $(B)/pic/shim/columns.o: $(B)/pic/shim/%.o: experiments/%.c \
	$(wildcard experiments/*.h experiments/*.def)
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/shim/malloc.o $(B)/pic/shim/addrspace.o $(B)/pic/shim/real.o $(B)/pic/shim/signals.o \
	$(B)/pic/shim/sanitized.o: \
	SHIM_CFLAGS += $(SHIM_NOSAN_$(SAN))

$(B)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

$(B)/shim-bulk.ld: $(SHIM_OBJ) scripts/bulk-ld.sh
	scripts/bulk-ld.sh $(SHIM_OBJ) > $@

$(SHIM_SO): $(SHIM_OBJ) $(B)/shim-bulk.ld
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(SHIM_OBJ) $(SANFLAGS) $(SHIM_LIBS) -Wl,-z,nodelete -Wl,-z,now -Wl,--no-undefined \
		-Wl,-T,$(B)/shim-bulk.ld

$(READER_SO): $(READER_PIC)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^ $(SANFLAGS) $(READER_LIBS) -Wl,-soname,libxtrace-reader.so \
		-Wl,--exclude-libs,libiberty.a

# One relocatable object in the archive: the reader finds each experiment's code through weak
# references (reader/generation.c), which would not pull a member out of an archive.
$(READER_A): $(READER_OBJ)
	@mkdir -p $(@D)
	$(LD) -r -o $(B)/obj/libxtrace-reader.o $^
	rm -f $@ && ar rcs $@ $(B)/obj/libxtrace-reader.o

$(CLI): $(CLI_OBJ) $(READER_A)
	@mkdir -p $(@D)
	$(CC) -o $@ $(CLI_OBJ) $(READER_A) $(SANFLAGS) $(CLI_LIBS) -lm

# The page of `xtrace report` (reader/cli/report/) is assembled into report_assets.o (.incbin),
# which the compiler's dependency files do not list.
REPORT_ASSETS := $(wildcard reader/cli/report/*)
$(B)/obj/reader/cli/report_assets.o $(B)/pic/reader/cli/report_assets.o: $(REPORT_ASSETS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh

include tests/tests.mk

demo: deps
	@$(MAKE) --no-print-directory all $(B)/workloads/demo
	@XTRACE_BIN=$(X) scripts/demo.sh $(B)/workloads/demo

bench: all $(BENCH_BIN)
	@XTRACE_BUILD=$(B) XTRACE_LIB=$(L) XTRACE_BIN=$(X) scripts/bench.sh

clean:
	rm -rf build build-* lib lib-* bin bin-*

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 755 $(SHIM_SO) $(READER_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(READER_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 reader/xtrace-reader.h reader/xtrace-analysis.h include/xtrace.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PYTHON_DIR)/xtrace
	install -m 644 python/xtrace/__init__.py $(DESTDIR)$(PYTHON_DIR)/xtrace/
