# eventwire — thin targets; the logic lives in scripts/ and Go programs.
# make run     build and start the demo server on http://localhost:8080
# make test    vet (native + js/wasm), unit tests with -race, wasm tests in node, e2e in headless Chromium
# make bench   benchmarks: protocol codecs, server load, browser (EventSource vs peers, BatchSocket vs raw WebSocket)

GO        ?= go
WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/go_js_wasm_exec
NATIVE    := ./protocol/... ./server/... ./wasm/...
ADDR      ?= localhost:8080
FUZZTIME  ?= 2m
# How the wasm modules are built. fmt, and reflect, strconv and os that it
# brings, are in the modules only for safejs's error messages: compiled
# without inlining (-l) they never run on a hot path and weigh 7.7 KB less
# (gzip) in eventwire.wasm.
WASM_BUILD := GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -gcflags=fmt=-l -gcflags=reflect=-l -gcflags=strconv=-l -gcflags=os=-l

.PHONY: all deps build run test vet unit wasmtest jstest e2e bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build:
	@scripts/install-deps.sh --no-browser
	$(WASM_BUILD) -o dist/eventwire.wasm ./wasm/cmd/eventwire
	$(WASM_BUILD) -o dist/eventwire-batch.wasm ./wasm/cmd/eventwire-batch
	node scripts/build.mjs

run: build
	$(GO) run ./server/cmd/eventwire-server -addr $(ADDR) -static dist -demo -ingest-sink file:dist/recorder.ndjson

test: deps vet unit wasmtest build jstest e2e

vet:
	$(GO) vet ./...
	$(GO) vet -tags bench ./e2e/
	GOOS=js GOARCH=wasm $(GO) vet ./protocol/... ./wasm/...

unit:
	$(GO) test -race -count=1 $(NATIVE)

wasmtest:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$(WASM_EXEC)" ./protocol/... ./wasm/...

jstest: build
	node_modules/.bin/tsc --noEmit -p js
	node --test js/test/*.test.mjs

e2e: build
	$(GO) test -count=1 -timeout 20m ./e2e/...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./protocol/...
	scripts/bench-server.sh
	$(GO) test -tags bench -count=1 -run '^(TestBrowserBench|TestBatchBench)$$' -v -timeout 20m ./e2e/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzRoundTrip -fuzztime $(FUZZTIME) ./protocol/sse
	$(GO) test -run '^$$' -fuzz FuzzChunking -fuzztime $(FUZZTIME) ./protocol/sse
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./protocol/batch
	$(GO) test -run '^$$' -fuzz FuzzRoundTrip -fuzztime $(FUZZTIME) ./protocol/batch

clean:
	rm -rf dist
