# The few commands a newcomer needs; each is also in the README.
.PHONY: build test bench bench-e2e lint fuzz sandbox

# The version crmbatch reports: the nearest tag, or the commit, "-dirty" with changes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/crmbatch ./cmd/crmbatch

# go test's default -timeout of 10 minutes is a time budget for a whole test
# binary: batch's race-enabled tests took 7 of them on the 2-core machine under
# load, and three counts took 25. A hang still fails, naming itself (the tests
# wait until shortly before this deadline), only later.
test:
	go test -race -count=1 -timeout 30m ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

bench-e2e: build
	scripts/bench-e2e

# gofmt -l exits 0 whatever it lists: the lint fails on any file it lists.
lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "not gofmt'ed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	staticcheck ./...
	go run ./cmd/checkglobals ./...

# Go minimizes each input a fuzzer keeps before it counts the execs it spent
# on it, removing every span of its bytes (quadratic in the input's length),
# for up to -fuzzminimizetime, 60 s by default: the status line then shows
# "0 execs/sec". A workbook input of a few KiB took all of it (FuzzXLSXReader:
# 60 execs in 21 s; bounded to 100 execs, 115,844 in 30 s), so minimizing is
# bounded by a count of execs, the same on a fast machine and a busy one.
FUZZMIN = -fuzzminimizetime 100x

# Each target runs a count of execs, not a time (-fuzztime Nx, about 30 s on
# the idle 2-core machine): a time ends in a deadline that Go 1.26's fuzzing
# coordinator can report as a failure, "context deadline exceeded", with no
# failing input (go.dev/issue/75804, fixed in Go 1.27); FuzzRead met it in CI.

fuzz:
	go test -run '^$$' -fuzz FuzzCSVReader -fuzztime 300000x $(FUZZMIN) ./formats
	go test -run '^$$' -fuzz FuzzXLSXReader -fuzztime 500000x $(FUZZMIN) ./formats/xlsx
	go test -run '^$$' -fuzz FuzzXLSXSheet -fuzztime 300000x $(FUZZMIN) ./formats/xlsx
	go test -run '^$$' -fuzz FuzzXMLScanner -fuzztime 900000x $(FUZZMIN) ./formats/xlsx/internal/xmlscan
	go test -run '^$$' -fuzz FuzzXLSXReport -fuzztime 2000x $(FUZZMIN) ./formats/xlsxreport
	go test -run '^$$' -fuzz FuzzNumberPattern -fuzztime 300000x $(FUZZMIN) ./formats/xlsx
	go test -run '^$$' -fuzz FuzzParseRow -fuzztime 200000x $(FUZZMIN) ./kind
	go test -run '^$$' -fuzz FuzzRead -fuzztime 600000x $(FUZZMIN) ./amount

sandbox: build
	bin/crmbatch sandbox
