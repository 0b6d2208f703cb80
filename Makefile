# Dala - plain Makefile. `make` builds, `make test` builds and runs every
# test, `make asan` runs them under AddressSanitizer and UBSan, `make fuzz`
# runs the libFuzzer targets, `make bench` prints the benchmark figures.
# Every target first installs any missing Debian package (scripts/install-deps.sh).

CC ?= cc
CFLAGS ?= -O2 -g
FUZZ_SECONDS ?= 30
BUILD ?= build

DALA_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wformat=2 -Wvla -MMD -MP -pthread -Isync -Ischema -Iserver -Iclient-sdk -Itests -I$(BUILD)
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SYNC_LIBS = -lmbedcrypto -lz -lm -pthread
SERVER_LIBS = -lcivetweb -lsqlite3 $(SYNC_LIBS)
# libdala's built-in transport is libcurl (client-sdk/transport_curl.c).
CURL_LIBS = -lcurl
SDK_LIBS = -lsqlite3 $(CURL_LIBS) $(SYNC_LIBS)

SYNC_SRC = $(sort $(wildcard sync/*.c))
SERVER_SRC = $(filter-out server/main.c,$(sort $(wildcard server/*.c)))
SCHEMA_OBJ = $(BUILD)/schema/migrate.o $(BUILD)/schema/server_migrations.o $(BUILD)/schema/sqlite_text.o $(BUILD)/schema/sqlite_settings.o
SDK_SRC = $(sort $(wildcard client-sdk/*.c))
CLI_SRC = $(sort $(wildcard client-sdk/cli/*.c))
DEVICE_SQL = $(sort $(wildcard schema/device/*.sql))
TEST_SUITES = $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT = tests/run_tests.c tests/testhelp_files.c tests/child_server.c tests/records_gen.c tests/vector_file.c tests/codec_sample.c tests/server_harness.c tests/sdk_harness.c tests/raw_client.c tests/frame_sample.c tests/e2e_support.c tests/web_client.c tests/supervisor.c \
               tests/torture/fault_vfs.c
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

SYNC_OBJ = $(SYNC_SRC:%.c=$(BUILD)/%.o) $(BUILD)/schema/domain_records.o $(BUILD)/schema/domain_articles.o
WEB_ASSETS = $(sort $(wildcard server/web/*.html server/web/*.js server/web/*.css server/web/*.svg))
SERVER_OBJ = $(SERVER_SRC:%.c=$(BUILD)/%.o) $(SCHEMA_OBJ) $(BUILD)/assets/web_assets.o
SDK_OBJ = $(SDK_SRC:%.c=$(BUILD)/%.o) $(BUILD)/schema/migrate.o $(BUILD)/schema/device_migrations.o $(BUILD)/schema/sqlite_text.o $(BUILD)/schema/sqlite_settings.o
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ = $(TEST_SUITES:%.c=$(BUILD)/%.o) $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
REPLAY_BIN = $(FUZZ_TARGETS:%=$(BUILD)/replay_%)
# Generators of the committed vectors and seed corpora (run by hand, once).
GENERATORS = $(patsubst tests/vectors/%.c,$(BUILD)/%,$(wildcard tests/vectors/make_*.c)) \
             $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/make_*.c))

.PHONY: all deps test browser-test asan fuzz bench demo demo-web headers clean corpus
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build-all

deps:
	@sh scripts/install-deps.sh

.PHONY: build-all
build-all: $(BUILD)/libdala_sync.a $(BUILD)/dala-server $(BUILD)/libdala.a $(BUILD)/dala $(BUILD)/run_tests $(BUILD)/bench_sync $(BUILD)/bench_server $(BUILD)/bench_report $(REPLAY_BIN) $(GENERATORS) headers

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(DALA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(BUILD)/libdala_sync.a: $(SYNC_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The schema's numbered SQL files are compiled into the binaries.
$(BUILD)/schema/server_migrations.c: $(sort $(wildcard schema/server/*.sql)) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh server_migrations $(sort $(wildcard schema/server/*.sql)) > $@.tmp && mv $@.tmp $@

$(BUILD)/schema/device_migrations.c: $(DEVICE_SQL) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh dala_device_migrations $(DEVICE_SQL) > $@.tmp && mv $@.tmp $@

# The domain definition (record types, rules, labels) is compiled into libdala_sync.
$(BUILD)/schema/domain_records.c: schema/domain/records.json scripts/embed-text.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-text.sh dala_domain_records_json schema/domain/records.json > $@.tmp && mv $@.tmp $@

# The article catalogue an offence's article is picked from, compiled in beside it.
$(BUILD)/schema/domain_articles.c: schema/domain/articles.json scripts/embed-text.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-text.sh dala_domain_articles_json schema/domain/articles.json > $@.tmp && mv $@.tmp $@

$(BUILD)/schema/%.o: $(BUILD)/schema/%.c
	$(CC) $(DALA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

# The supervisors' pages (server/web/) are compiled into dala-server.
$(BUILD)/assets/web_assets.c: $(WEB_ASSETS) scripts/embed-assets.sh scripts/embed-text.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-assets.sh $(WEB_ASSETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/assets/%.o: $(BUILD)/assets/%.c
	$(CC) $(DALA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(BUILD)/libdala_server.a: $(SERVER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# libdala, the tablet SDK (one public header, client-sdk/dala.h), and the `dala` command.
$(BUILD)/libdala.a: $(SDK_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dala: $(CLI_OBJ) $(BUILD)/libdala.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SDK_LIBS)

$(BUILD)/dala-server: $(BUILD)/server/main.o $(BUILD)/libdala_server.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SERVER_LIBS)

# The suites are the tests/test_*.c files; each defines <name>_tests.
$(BUILD)/suites.h: $(TEST_SUITES) Makefile
	@mkdir -p $(BUILD)
	@{ echo '/* generated by the Makefile from tests/test_*.c */'; \
	   for f in $(TEST_SUITES); do n=$$(basename $$f .c); n=$${n#test_}; \
	     echo "extern const dala_test $${n}_tests[];"; done; \
	   printf '#define DALA_SUITES'; \
	   for f in $(TEST_SUITES); do n=$$(basename $$f .c); n=$${n#test_}; \
	     printf ' DALA_SUITE(%s)' $$n; done; echo; } > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/run_tests.o: $(BUILD)/suites.h
# Binaries with libdala beside the server link its transport too; run_tests' TLS endpoint is mbedTLS.
$(BUILD)/run_tests $(BUILD)/bench_server $(BUILD)/torture: SERVER_LIBS += $(CURL_LIBS)
$(BUILD)/run_tests: SERVER_LIBS += -lmbedtls -lmbedx509

$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/libdala_server.a $(BUILD)/libdala.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $(TEST_OBJ) $(BUILD)/libdala_server.a $(BUILD)/libdala.a $(BUILD)/libdala_sync.a $(SERVER_LIBS) -lm

$(BUILD)/bench_sync: $(BUILD)/tests/bench/bench_sync.o $(BUILD)/tests/bench/bench_common.o $(BUILD)/tests/records_gen.o $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SYNC_LIBS) -lm

# The end-to-end benchmark: a real dala-server in process and libdala stores.
$(BUILD)/bench_server: $(BUILD)/tests/bench/bench_server.o $(BUILD)/tests/bench/bench_web.o $(BUILD)/tests/bench/bench_common.o $(BUILD)/tests/records_gen.o $(BUILD)/tests/raw_client.o \
                       $(BUILD)/libdala_server.a $(BUILD)/libdala.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SERVER_LIBS) -lm

# The report notes' benchmark: a department's quarter over 100,000 records.
$(BUILD)/bench_report: $(BUILD)/tests/bench/bench_report.o $(BUILD)/tests/bench/bench_common.o $(BUILD)/tests/records_gen.o \
                       $(BUILD)/tests/web_client.o $(BUILD)/libdala_server.a $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SERVER_LIBS) -lm

# Each fuzz target also links with a plain main that replays its corpus.
# The server files a fuzz target reads untrusted bytes with are linked in too.
FUZZ_SERVER_SRC = server/report_sign.c server/report_bundle.c
$(BUILD)/replay_%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay_main.o $(FUZZ_SERVER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SYNC_LIBS)

$(BUILD)/make_%: $(BUILD)/tests/vectors/make_%.o $(BUILD)/tests/vector_file.o $(BUILD)/tests/codec_sample.o $(BUILD)/tests/records_gen.o $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SYNC_LIBS) -lm

$(BUILD)/make_corpus: $(BUILD)/tests/fuzz/make_corpus.o $(BUILD)/tests/records_gen.o $(BUILD)/libdala_sync.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -pthread -o $@ $^ $(SYNC_LIBS) -lm

# Public headers compile alone, pedantically.
headers: $(BUILD)/headers.ok
$(BUILD)/headers.ok: sync/dala_sync.h sync/dala_domain.h sync/dala_json.h sync/dala_text.h client-sdk/dala.h
	@mkdir -p $(BUILD)
	@for h in $^; do echo "#include \"$$h\"" | $(CC) -std=c11 -pedantic -Wall -Wextra -Werror -x c -c -o /dev/null - || exit 1; done
	@touch $@

test: all
	$(BUILD)/run_tests
	@for t in $(FUZZ_TARGETS); do $(BUILD)/replay_$$t tests/fuzz/corpus/$$t || exit 1; done
	@$(MAKE) --no-print-directory torture-short
	@BUILD=$(BUILD) sh scripts/browser-tests.sh
	@BUILD=$(BUILD) sh scripts/deploy-test.sh

# Only the supervisors' pages in headless Chromium (part of `make test`).
browser-test: all
	@BUILD=$(BUILD) sh scripts/browser-tests.sh

# The deployment kit (deploy/) on one machine: nginx in front over https,
# with a throwaway CA; installs nginx where missing (scripts/deploy-test.sh).
.PHONY: deploy-test
deploy-test: all
	@BUILD=$(BUILD) sh scripts/deploy-test.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="-O1 -g" EXTRA_CFLAGS="$(SAN_FLAGS)" test

fuzz: deps
	@$(MAKE) --no-print-directory $(BUILD)/schema/domain_records.c $(BUILD)/schema/domain_articles.c
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Isync -Iserver -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o build/fuzz/$$t tests/fuzz/$$t.c $(SYNC_SRC) $(FUZZ_SERVER_SRC) $(BUILD)/schema/domain_records.c $(BUILD)/schema/domain_articles.c $(SYNC_LIBS) || exit 1; \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 \
	    build/fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>build/fuzz/$$t.log || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  tail -1 build/fuzz/$$t.log; \
	done

# Remakes the seed corpora of the fuzz targets make_corpus writes
# (deterministic). fuzz_report_bundle's seeds are kept as committed: a
# signed note's file from the demo, the RFC 6979 signature, broken ones.
MADE_CORPORA = fuzz_batch_decode fuzz_inflate fuzz_frame_open fuzz_json_parse fuzz_survey_check
corpus: all
	rm -rf $(MADE_CORPORA:%=tests/fuzz/corpus/%) && $(BUILD)/make_corpus tests/fuzz/corpus

bench: all
	$(BUILD)/bench_sync
	$(BUILD)/bench_server
	$(BUILD)/bench_report

demo: all
	@sh scripts/demo.sh

# The demo's day, then the server stays up for a person to sign in to the
# supervisors' pages with the printed credentials (Ctrl-C stops it).
demo-web: all
	@DALA_DEMO_WEB=1 sh scripts/demo.sh

# The restore drill (tests/test_restore_drill.c, also in `make test`): three
# tablets, an encrypted backup taken while they sync, more acknowledged work,
# a restore, every tablet synced again; prints the figures (0 lost, 0
# duplicated). Bounded: stopped after 120 s.
.PHONY: restore-drill
restore-drill: all
	timeout 120 $(BUILD)/run_tests restore_drill

clean:
	rm -rf build

# The torture battery (tests/torture/): `make torture`, `make soak`, and the
# short run `make test` includes (torture-short).
-include tests/torture/torture.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Keep intermediate objects (the replay binaries are built through a pattern chain).
.SECONDARY:
