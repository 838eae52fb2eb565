# hookd - events and signed webhooks over PostgreSQL.
#
#   make run     install what is missing, build, start a private PostgreSQL
#                (unless HOOKD_DATABASE_URL is set), migrate, and serve
#   make test    the same set-up, then every unit and integration test
#   make test-sanitizers  the suite under ASan+UBSan, valgrind and TSan (CI)
#   make test-ui the dashboard (/ui/) end to end in headless Chromium (CI)
#   make build   just the binary: build/hookd
#   make lint    cppcheck, the OpenAPI linter, and the README settings table
#   make asan    build with AddressSanitizer + UBSan into build/asan
#   make tsan    build with ThreadSanitizer into build/tsan
#   make fuzz    run every libFuzzer target for FUZZ_SECONDS (default 60)
#   make docs    regenerate README.md's settings table from the binary

VERSION := 0.1.0
BUILD ?= build
CC ?= cc
PKGS := libmicrohttpd libpq json-c libcurl libsodium
OPT ?= -O2 -g
SANITIZE ?=

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral
HOOKD_CFLAGS = -std=c11 $(OPT) $(WARNINGS) -MMD -MP -pthread \
               $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer) \
               -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DHOOKD_VERSION='"$(VERSION)"' \
               -Iserver $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
HOOKD_LDFLAGS = -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)
HOOKD_LIBS = $(shell pkg-config --libs $(PKGS))

SRCS := $(filter-out server/main.c,$(wildcard server/*.c))
OBJS := $(SRCS:server/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/migrations_embed.o \
        $(BUILD)/obj/functions_embed.o $(BUILD)/obj/ui_embed.o
MIGRATIONS := $(sort $(wildcard db/migrations/*.sql))
# The live SQL functions, re-applied by `hookd migrate` when they change.
FUNCTIONS := $(sort $(wildcard db/functions/*.sql))
# The dashboard's static files, compiled into the binary (served at /ui/).
UI_FILES := $(sort $(wildcard ui/*))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Shared helpers of the unit tests (tests/unit/support/*.c), linked into each.
UNIT_SUPPORT_OBJS := $(patsubst tests/unit/support/%.c,$(BUILD)/tests/support/%.o,\
                       $(wildcard tests/unit/support/*.c))

.PHONY: all build run test test-sanitizers test-ui unit lint asan tsan clean docs fuzz fuzz-build fuzz-regress
.DEFAULT_GOAL := build

all build: $(BUILD)/hookd

$(BUILD)/hookd: $(BUILD)/obj/main.o $(BUILD)/libhookd.a
	@echo "  LINK    $@"
	@$(CC) $(HOOKD_LDFLAGS) -o $@ $^ $(HOOKD_LIBS)

$(BUILD)/libhookd.a: $(OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/obj/%.o: server/%.c | $(BUILD)/obj
	@echo "  CC      $<"
	@$(CC) $(HOOKD_CFLAGS) -c -o $@ $<

# The directories are prerequisites: they change when a file is added or removed.
$(BUILD)/obj/migrations_embed.c: $(MIGRATIONS) db/migrations scripts/embed-migrations.sh | $(BUILD)/obj
	@echo "  EMBED   db/migrations/"
	@scripts/embed-migrations.sh $@ migrations $(MIGRATIONS)

$(BUILD)/obj/functions_embed.c: $(FUNCTIONS) db/functions scripts/embed-migrations.sh | $(BUILD)/obj
	@echo "  EMBED   db/functions/"
	@scripts/embed-migrations.sh $@ functions $(FUNCTIONS)

$(BUILD)/obj/migrations_embed.o $(BUILD)/obj/functions_embed.o: $(BUILD)/obj/%.o: $(BUILD)/obj/%.c
	@echo "  CC      $<"
	@$(CC) $(HOOKD_CFLAGS) -c -o $@ $<

# ui/ changes when a file is added or removed, so the directory is a prerequisite.
$(BUILD)/obj/ui_embed.c: $(UI_FILES) ui scripts/embed-ui.sh | $(BUILD)/obj
	@echo "  EMBED   ui/"
	@scripts/embed-ui.sh $@ $(UI_FILES)

$(BUILD)/obj/ui_embed.o: $(BUILD)/obj/ui_embed.c
	@echo "  CC      $<"
	@$(CC) $(HOOKD_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SUPPORT_OBJS) $(BUILD)/libhookd.a | $(BUILD)/tests
	@echo "  CC      $<"
	@$(CC) $(HOOKD_CFLAGS) -Itests/unit/support -o $@ $< $(UNIT_SUPPORT_OBJS) \
	    $(BUILD)/libhookd.a $(HOOKD_LDFLAGS) $(HOOKD_LIBS) -lcmocka

$(BUILD)/tests/support/%.o: tests/unit/support/%.c | $(BUILD)/tests/support
	@echo "  CC      $<"
	@$(CC) $(HOOKD_CFLAGS) -Itests/unit/support -c -o $@ $<

# Keep the helpers' objects: they are intermediate files to make.
.SECONDARY: $(UNIT_SUPPORT_OBJS)

$(BUILD)/obj $(BUILD)/tests $(BUILD)/tests/support:
	@mkdir -p $@

unit: $(UNIT_BINS)

# The two commands of the README. Each installs what is missing first, in a
# separate make so that pkg-config sees the freshly installed libraries.
run:
	@scripts/install-deps.sh run
	@$(MAKE) --no-print-directory build
	@scripts/run.sh

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory build unit
	@scripts/test.sh

# The dashboard in a real browser: Debian's Chromium (installed when
# missing) driven headless; screenshots in build/ui-screenshots/.
test-ui:
	@scripts/install-deps.sh ui
	@$(MAKE) --no-print-directory build
	@scripts/test-ui.sh

# The suite under ASan+UBSan, valgrind and ThreadSanitizer (CI runs it).
test-sanitizers:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory build unit
	@scripts/test-sanitizers.sh

# libFuzzer targets (clang) for every parser of untrusted bytes; each runs
# FUZZ_SECONDS. fuzz-regress replays the committed corpus once.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-regress: fuzz-build
	@scripts/fuzz.sh 0 --regress

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" \
	    SANITIZE=fuzzer-no-link,address,undefined build/fuzz/libhookd.a
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libhookd.a
	@echo "  FUZZ    $@"
	@clang -std=c11 -O1 -g $(WARNINGS) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iserver \
	    $(shell pkg-config --cflags $(PKGS)) -fsanitize=fuzzer,address,undefined \
	    -o $@ $< build/fuzz/libhookd.a $(HOOKD_LIBS) -pthread

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" SANITIZE=address,undefined build unit \
	    $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=build/asan/fuzz/replay_%)

# The fuzz targets without libFuzzer, to replay the committed corpus (CI).
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libhookd.a
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	@$(CC) $(HOOKD_CFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libhookd.a $(HOOKD_LDFLAGS) $(HOOKD_LIBS)

tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT="-O1 -g" SANITIZE=thread build

TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,\
  -bugprone-reserved-identifier,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,\
  -clang-analyzer-valist.Uninitialized

lint: build
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem -Iserver server
	clang-tidy --quiet --warnings-as-errors='*' --checks='$(TIDY_CHECKS)' server/*.c -- \
	    -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iserver $(shell pkg-config --cflags $(PKGS))
	scripts/lint-openapi.sh
	scripts/readme-config.sh $(BUILD)/hookd

# Regenerates README.md's settings table from the binary's own table.
docs: build
	@scripts/readme-config.sh $(BUILD)/hookd --write

clean:
	rm -rf $(BUILD)

# Benchmarks against this machine's own ceilings (issue 5; scripts/bench.sh):
# the full run takes under 10 minutes and is not for CI; bench-smoke runs
# every scenario briefly (under a minute) so that the harness cannot rot.
# Both build their own -O2 hookd into build/bench.
.PHONY: bench bench-smoke
bench:
	@scripts/bench.sh

bench-smoke:
	@BENCH_SMOKE=1 scripts/bench.sh

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d $(BUILD)/tests/support/*.d)
