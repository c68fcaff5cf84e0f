# easd: one non-recursive GNU Makefile.
#
# Modules are directories; every .c file in a module directory is part of the
# module's static library, except the daemon's main.c.  New files are picked
# up by wildcard, so adding a source file never means editing this file.
#
#   proto/    -> libproto.a   (codecs, RPC schema and frames; no sockets)
#   net/      -> libnet.a     (sockets, event loop, TLS for the RPC)
#   policy/   -> libpolicy.a  (policy logic; never includes cas/)
#   mailbox/  -> libmailbox.a + easd-mailbox
#   cas/      -> libcas.a     + easd-cas
#   tools/    -> easctl       (every tools/*.c is linked into easctl)
#
# Build modes (MODE=...): release (default, -O2), asan (what `make test`
# uses: AddressSanitizer + UndefinedBehaviorSanitizer), fuzz (clang with
# libFuzzer).  Each mode builds into its own directory under build/.

MODE ?= release
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 30

ifeq ($(MODE),asan)
B := build/asan
MODE_CFLAGS := -O1 -g -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(MODE),fuzz)
CC := clang
B := build/fuzz
MODE_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -DEASD_FUZZING
MODE_LDFLAGS := -fsanitize=address,undefined
else
B := build/release
MODE_CFLAGS := -O2 -g
MODE_LDFLAGS :=
endif

GEN := build/gen

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wimplicit-fallthrough -Wvla

PKGS := libmicrohttpd gmime-3.0 libical libcurl libprotobuf-c libxcrypt \
	sqlite3 openssl libxml-2.0
# Third-party headers are system headers: their warnings are not ours.
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
# libwbxml2's .pc file is broken in Debian 12 (a relative -L); it is only
# ever linked into tests and benchmarks, never into a daemon.
WBXML_CFLAGS := -isystem /usr/include/libwbxml-1.0
WBXML_LIBS := -lwbxml2 -lexpat

CPPFLAGS += -D_GNU_SOURCE -I. -I$(GEN)
CFLAGS += -std=c17 $(WARN) $(MODE_CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(MODE_LDFLAGS)

# ---------------------------------------------------------------- sources
RPC_PROTO := proto/rpc.proto
GEN_SRC := $(if $(wildcard $(RPC_PROTO)),$(GEN)/proto/rpc.pb-c.c)
GEN_HDR := $(GEN_SRC:.c=.h)

PROTO_SRC := $(wildcard proto/*.c)
NET_SRC := $(wildcard net/*.c)
POLICY_SRC := $(wildcard policy/*.c)
MAILBOX_SRC := $(filter-out mailbox/main.c,$(wildcard mailbox/*.c))
CAS_SRC := $(filter-out cas/main.c,$(wildcard cas/*.c))
TOOLS_SRC := $(wildcard tools/*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c) $(wildcard tests/ref/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIB_PROTO := $(B)/lib/libproto.a
LIB_NET := $(B)/lib/libnet.a
LIB_POLICY := $(B)/lib/libpolicy.a
LIB_MAILBOX := $(B)/lib/libmailbox.a
LIB_CAS := $(B)/lib/libcas.a
LIB_TEST := $(B)/lib/libtest.a
LIBS_A := $(LIB_CAS) $(LIB_MAILBOX) $(LIB_POLICY) $(LIB_NET) $(LIB_PROTO)
LINK_LIBS := -Wl,--start-group $(LIBS_A) -Wl,--end-group $(PKG_LIBS)
# CAS commands register themselves from constructors (cas/dispatch.h):
# nothing references them by name, so libcas.a is linked whole where the
# command table matters (easd-cas and the tests).
LINK_LIBS_CAS := -Wl,--whole-archive $(LIB_CAS) -Wl,--no-whole-archive \
	$(LINK_LIBS)

BIN_MAILBOX := $(if $(wildcard mailbox/main.c),$(B)/bin/easd-mailbox)
BIN_CAS := $(if $(wildcard cas/main.c),$(B)/bin/easd-cas)
BIN_EASCTL := $(if $(TOOLS_SRC),$(B)/bin/easctl)
BINS := $(BIN_MAILBOX) $(BIN_CAS) $(BIN_EASCTL)

UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(patsubst %.c,$(B)/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst %.c,$(B)/%,$(FUZZ_SRC))
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(patsubst %.c,$(B)/%,$(BENCH_SRC))
# C helpers that integration scripts drive (load generators, fake clients).
ITEST_SRC := $(wildcard tests/integration/*.c)
ITEST_BIN := $(patsubst %.c,$(B)/%,$(ITEST_SRC))

ALL_OBJ := $(call obj,$(PROTO_SRC) $(NET_SRC) $(POLICY_SRC) $(MAILBOX_SRC) \
	$(CAS_SRC) $(TOOLS_SRC) $(TESTLIB_SRC) mailbox/main.c cas/main.c \
	$(GEN_SRC:$(GEN)/%=%))

# ---------------------------------------------------------------- targets
.PHONY: all test check bench fuzz fuzz-run lint format run install clean \
	unit fuzz-replay

.SECONDARY:

all: $(BINS)

# Generated protobuf-c code lives in build/gen, shared by all modes.
$(GEN)/proto/rpc.pb-c.c $(GEN)/proto/rpc.pb-c.h: $(RPC_PROTO)
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) $(RPC_PROTO)

$(B)/obj/proto/rpc.pb-c.o: $(GEN)/proto/rpc.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -Wcast-qual,$(CFLAGS)) -c $< -o $@

# Everything may include the generated header: build it first.
$(B)/obj/%.o: %.c | $(GEN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_PROTO): $(call obj,$(PROTO_SRC)) $(if $(GEN_SRC),$(B)/obj/proto/rpc.pb-c.o)
$(LIB_NET): $(call obj,$(NET_SRC))
$(LIB_POLICY): $(call obj,$(POLICY_SRC))
$(LIB_MAILBOX): $(call obj,$(MAILBOX_SRC))
$(LIB_CAS): $(call obj,$(CAS_SRC))
$(LIB_TEST): $(call obj,$(TESTLIB_SRC))

$(B)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^ $(if $^,,$(B)/lib/.empty.o)

# An archive with no members still has to exist for the linker.
$(B)/lib/.empty.o:
	@mkdir -p $(dir $@)
	printf '' | $(CC) -x c -c - -o $@

$(LIB_PROTO) $(LIB_NET) $(LIB_POLICY) $(LIB_MAILBOX) $(LIB_CAS) \
	$(LIB_TEST): | $(B)/lib/.empty.o

$(B)/bin/easd-mailbox: $(call obj,mailbox/main.c) $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LINK_LIBS) -o $@

$(B)/bin/easd-cas: $(call obj,cas/main.c) $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LINK_LIBS_CAS) -o $@

$(B)/bin/easctl: $(call obj,$(TOOLS_SRC)) $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(call obj,$(TOOLS_SRC)) $(LINK_LIBS) -o $@

TEST_LINK := $(LIB_TEST) $(LINK_LIBS_CAS) $(WBXML_LIBS) -lcmocka

$(B)/tests/%: $(B)/obj/tests/%.o $(LIBS_A) $(LIB_TEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(TEST_LINK) -o $@

$(B)/obj/tests/%.o: CFLAGS += $(WBXML_CFLAGS)
$(B)/obj/tests/ref/%.o: CFLAGS += $(WBXML_CFLAGS)

# Fuzz targets: under libFuzzer in MODE=fuzz, with a corpus-replay main
# (tests/fuzz/replay.c) in every other mode.
ifeq ($(MODE),fuzz)
$(B)/tests/fuzz/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(LIBS_A) $(LIB_TEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $< $(TEST_LINK) -o $@
else
$(B)/tests/fuzz/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o \
		$(B)/obj/tests/fuzz/replay.o $(LIBS_A) $(LIB_TEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(B)/obj/tests/fuzz/replay.o $(TEST_LINK) -o $@
endif

# ---------------------------------------------------------------- test
# `make test` builds everything sanitized and runs unit tests, corpus
# replays and integration scripts; tests/run.sh prints the summary line.
test:
	$(MAKE) MODE=asan check

check: $(BINS) $(UNIT_BIN) $(FUZZ_BIN) $(ITEST_BIN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	EASD_BIN=$(CURDIR)/$(B)/bin EASD_BUILD=$(CURDIR)/$(B) \
	tests/run.sh $(UNIT_BIN) $(FUZZ_BIN) \
		$(wildcard tests/integration/test_*.sh)

unit: $(UNIT_BIN)
	tests/run.sh $(UNIT_BIN)

# ---------------------------------------------------------------- bench
bench:
	$(MAKE) MODE=release bench-run

.PHONY: bench-run
bench-run: $(BINS) $(BENCH_BIN) $(ITEST_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@for s in $(wildcard tests/bench/bench_*.sh); do echo "== $$s"; \
		EASD_BIN=$(CURDIR)/$(B)/bin EASD_BUILD=$(CURDIR)/$(B) \
		$$s || exit 1; done

# ---------------------------------------------------------------- fuzz
fuzz:
	$(MAKE) MODE=fuzz fuzz-run

fuzz-run: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		n=$$(basename $$f); c=tests/fuzz/corpus/$${n#fuzz_}; \
		mkdir -p $$c build/fuzz/new/$$n; \
		echo "== $$n for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 build/fuzz/new/$$n $$c || exit 1; \
	done

# ---------------------------------------------------------------- lint
LINT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
CHECK_SRC = $(filter-out tests/%,$(filter %.c,$(LINT_SRC)))

lint: $(GEN_HDR)
	tests/lint/banned.sh $(LINT_SRC)
	tests/lint/layering.sh
	clang-format --dry-run -Werror $(LINT_SRC)
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--suppress=missingIncludeSystem -I. -I$(GEN) $(CHECK_SRC)
	clang-tidy --quiet $(CHECK_SRC) -- $(CPPFLAGS) -std=c17 \
		$(PKG_CFLAGS) $(WBXML_CFLAGS)

format:
	clang-format -i $(LINT_SRC)

# ---------------------------------------------------------------- run
run: all
	tools/run-dev.sh $(CURDIR)/$(B)/bin

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	$(if $(BIN_MAILBOX),install -m 755 $(BIN_MAILBOX) $(DESTDIR)$(PREFIX)/sbin/)
	$(if $(BIN_CAS),install -m 755 $(BIN_CAS) $(DESTDIR)$(PREFIX)/sbin/)
	$(if $(BIN_EASCTL),install -m 755 $(BIN_EASCTL) $(DESTDIR)$(PREFIX)/bin/)

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
