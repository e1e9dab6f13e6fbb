# opsreview — build, test and run. `make test` is what CI runs (.ci/run).
#
# Postgres comes from .ci/ensure-postgres: $DATABASE_URL, else 127.0.0.1:5432,
# else a private cluster in .pgdata/ on port 55432.

GO          ?= go
FUZZTIME    ?= 10s
TESTTIMEOUT ?= 30m
ENSURE_PG   := ./.ci/ensure-postgres

GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
# The Go vulnerability database, as the module proxy serves it (golang.org/x/vulndb holds every
# report as OSV JSON under data/osv). The pseudo-version's date is the database's date. Its own
# cmd/indexdb turns the reports into the layout `govulncheck -db file://` reads.
VULNDB      ?= v0.0.0-20261105234957-e22db6528018
VULNDB_DIR  := .tmp/vulndb-$(VULNDB)

.PHONY: build test vet fuzz soak vuln run bench bench-go clean distclean

build:
	$(GO) build -o bin/opsreview ./cmd/opsreview

# Unit, store (one database per test) and real-server tests, then a short
# run of every fuzz target.
test:
	@set -e; \
	if [ -z "$${OPSREVIEW_TEST_DATABASE_URL:-}" ]; then \
		OPSREVIEW_TEST_DATABASE_URL=$$($(ENSURE_PG)); \
	fi; \
	export OPSREVIEW_TEST_DATABASE_URL; \
	echo "test databases on: $$OPSREVIEW_TEST_DATABASE_URL"; \
	echo "$(GO) vet ./..."; \
	$(GO) vet ./...; \
	echo "$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./..."; \
	$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...; \
	$(MAKE) --no-print-directory fuzz; \
	$(MAKE) --no-print-directory vuln

vet:
	$(GO) vet ./...

# The long variants of the reliability scenarios (README, "Reliability"): a 30 s Postgres outage,
# 20 kills of opsreview, 10,000 alerts through three Alertmanager replicas, 20 shuffled replays,
# 1,000 slow clients.
soak:
	@set -e; \
	if [ -z "$${OPSREVIEW_TEST_DATABASE_URL:-}" ]; then \
		OPSREVIEW_TEST_DATABASE_URL=$$($(ENSURE_PG)); \
	fi; \
	export OPSREVIEW_TEST_DATABASE_URL OPSREVIEW_SOAK=1; \
	$(GO) test -count=1 -v -timeout 60m -run 'Reliability|Shuffled|SecuritySlowClients' ./cmd/opsreview ./server

# Fails on a known vulnerability reachable from our code. The database is built once (in .tmp/)
# from the pinned golang.org/x/vulndb module, fetched through the Go module proxy like any
# dependency: vuln.go.dev is not needed. GOTOOLCHAIN=auto: the standard library is checked at the
# release go.mod's toolchain line names (the one CI builds with), not at whatever go is in PATH.
vuln:
	@set -e; \
	export GOTOOLCHAIN=auto; \
	if [ ! -f $(VULNDB_DIR)/index/db.json ]; then \
		src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$$/\1/p'); \
		test -d "$$src/data/osv" || { echo "vuln: no data/osv in golang.org/x/vulndb@$(VULNDB)" >&2; exit 1; }; \
		echo "vuln: building the vulnerability database of golang.org/x/vulndb@$(VULNDB)"; \
		rm -rf $(VULNDB_DIR).partial; \
		$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB) -vulns "$$src/data/osv" -out $(VULNDB_DIR).partial; \
		mv $(VULNDB_DIR).partial $(VULNDB_DIR); \
	fi; \
	echo "$(GO) run $(GOVULNCHECK) -db file://$(CURDIR)/$(VULNDB_DIR) ./..."; \
	$(GO) run $(GOVULNCHECK) -db file://$(CURDIR)/$(VULNDB_DIR) ./...

# Runs each `func FuzzXxx` found in a package's test files for $(FUZZTIME),
# one at a time (go test -fuzz takes one target in one package).
fuzz:
	@set -e; \
	$(GO) list -f '{{range .TestGoFiles}}{{$$.ImportPath}} {{$$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .XTestGoFiles}}{{$$.ImportPath}} {{$$.Dir}}/{{.}}{{"\n"}}{{end}}' ./... | \
	while read -r pkg file; do \
		sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file" | while read -r name; do \
			echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$pkg" </dev/null; \
		done; \
	done

# Serves the dashboard and prints its URL and the TV's. With no OPSREVIEW_CONFIG the program
# fills demo data (once) and shows it. OPSREVIEW_LISTEN sets the address (default :8080).
run:
	@set -e; \
	url=$$($(ENSURE_PG)); \
	DATABASE_URL="$$url" exec $(GO) run ./cmd/opsreview serve \
		$${OPSREVIEW_CONFIG:+--config "$$OPSREVIEW_CONFIG"} $${OPSREVIEW_LISTEN:+--listen "$$OPSREVIEW_LISTEN"}

# Generates (once; reused while scale and seed match) a data set in its own database,
# opsreview_bench_$(BENCH_SCALE) (its SLIs have their own marker and are added in place when
# missing), then measures ingest, pages, know your normal, each TV panel, the baseline
# recomputation and `serve` under load and prints the table kept in BENCHMARKS.md.
# BENCH_SCALE=year for the figures of issue 6.
BENCH_SCALE ?= month
BENCH_SEED  ?= 1
BENCH_RUNS  ?= 30
bench:
	@set -e; \
	if [ -z "$${OPSREVIEW_TEST_DATABASE_URL:-}" ]; then \
		OPSREVIEW_TEST_DATABASE_URL=$$($(ENSURE_PG)); \
	fi; \
	$(GO) build -o bin/opsreview ./cmd/opsreview; \
	$(GO) build -o bin/opsreview-bench ./cmd/opsreview-bench; \
	bin/opsreview-bench run --db "$$OPSREVIEW_TEST_DATABASE_URL" --scale $(BENCH_SCALE) --seed $(BENCH_SEED) \
		--runs $(BENCH_RUNS) --serve-bin bin/opsreview

# The go test micro-benchmarks (store ingest, review page on 50k generated episodes).
bench-go:
	@set -e; \
	if [ -z "$${OPSREVIEW_TEST_DATABASE_URL:-}" ]; then \
		OPSREVIEW_TEST_DATABASE_URL=$$($(ENSURE_PG)); \
	fi; \
	export OPSREVIEW_TEST_DATABASE_URL; \
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin .tmp opsreview

# Also stops and deletes the private Postgres cluster in .pgdata/.
distclean: clean
	$(ENSURE_PG) --stop
	rm -rf .pgdata
