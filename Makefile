# The README's commands. `make test` is what CI runs (.ci/run).
.PHONY: test build run bench benchguard fuzz

test:
	./scripts/test.sh

build:
	go build -o bin/gatehouse ./cmd/gatehouse

run:
	go run ./cmd/gatehouse serve

bench:
	go test -run '^$$' -bench . -benchmem ./...

# Fails on a large allocation regression of the hot paths (never on time).
benchguard:
	./scripts/benchguard.sh

fuzz:
	FUZZTIME=$${FUZZTIME:-60s} ./scripts/fuzz.sh
