# The README's commands. `make test` is what CI runs (.ci/run).
.PHONY: test build run bench fuzz

test:
	./scripts/test.sh

build:
	go build -o bin/gatehouse ./cmd/gatehouse

run:
	go run ./cmd/gatehouse serve

bench:
	go test -run '^$$' -bench . -benchmem ./...

fuzz:
	FUZZTIME=$${FUZZTIME:-60s} ./scripts/fuzz.sh
