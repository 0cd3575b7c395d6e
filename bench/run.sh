#!/bin/sh
# The one command for the full benchmark run (docs/PERFORMANCE.md):
# the in-process benchmarks of the runtime, then the side-by-side scenarios
# against raw gorilla/websocket. Flags are passed to ambibench, e.g.
#   bench/run.sh -reps 3 -only echo
# It takes several minutes; `go test ./bench/` is the quick check.
set -eu
cd "$(dirname "$0")/.."
echo "## In process (go test -bench, 5 runs each)"
echo
echo '```'
go test -run '^$' -bench 'ParseEnvelope|DispatchTyped|EncodeFrame' -benchmem -count 5 ./runtime/ | grep -E '^(Benchmark|goos|goarch|cpu)'
echo '```'
echo
echo "## Each server's own work per echo, network taken out (go test -bench ServerPath, 3 runs)"
echo
echo '```'
go test -run '^$' -bench 'ServerPath' -benchmem -count 3 ./bench/ | grep -E '^Benchmark'
echo '```'
echo
go run ./bench/cmd/ambibench "$@"
