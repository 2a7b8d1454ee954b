# The few commands a newcomer needs; each is also in the README.
.PHONY: build test bench bench-e2e lint fuzz sandbox

# The version crmbatch reports: the nearest tag, or the commit, "-dirty" with changes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/crmbatch ./cmd/crmbatch

test:
	go test -race -count=1 ./...

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

fuzz:
	go test -run '^$$' -fuzz FuzzCSVReader -fuzztime 60s ./formats
	go test -run '^$$' -fuzz FuzzXLSXReader -fuzztime 60s ./formats
	go test -run '^$$' -fuzz FuzzXLSXSheet -fuzztime 60s ./formats
	go test -run '^$$' -fuzz FuzzXMLScanner -fuzztime 60s ./formats
	go test -run '^$$' -fuzz FuzzXLSXReport -fuzztime 30s ./formats
	go test -run '^$$' -fuzz FuzzNumberPattern -fuzztime 30s ./formats
	go test -run '^$$' -fuzz FuzzParseRow -fuzztime 60s ./kind
	go test -run '^$$' -fuzz FuzzRead -fuzztime 30s ./amount

sandbox: build
	bin/crmbatch sandbox
