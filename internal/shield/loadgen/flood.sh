#!/usr/bin/env bash
# flood.sh: the shield's load test, rerunnable. On loopback only: an
# upstream, a front (the shield, then a plain reverse proxy with the same
# server settings), and loadgen, each its own process. For each front it
# times legitimate requests without and with a Code Red II flood and reads
# the CPU each process used. Bounded: every loadgen run stops after
# DURATION seconds.
#
#   internal/shield/loadgen/flood.sh [RATE [DURATION [WORK]]]
#
# RATE is probes a second (default 10000), DURATION seconds per run
# (default 15), WORK the upstream's CPU per request (default 0s).
set -euo pipefail
RATE=${1:-10000}
DURATION=${2:-15}
WORK=${3:-0s}
LEGIT_RATE=${LEGIT_RATE:-200}
UP=127.0.0.1:18081
FRONT=127.0.0.1:18080
cd "$(dirname "$0")/../../.."
bin=$(mktemp -d)/wormlab
go build -o "$bin" ./cmd/wormlab
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# cpu PID: user+system seconds the process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

"$bin" loadgen upstream --listen "$UP" --work "$WORK" >/dev/null &
pids+=($!)
up_pid=$!
sleep 0.5

for mode in shield plain; do
	flags=(--listen "$FRONT" --upstream "http://$UP" --quiet)
	[[ $mode == plain ]] && flags+=(--plain)
	"$bin" shield "${flags[@]}" >/dev/null &
	front=$!
	pids+=($front)
	sleep 0.5
	for load in "no flood" "flood"; do
		rate=0
		[[ $load == flood ]] && rate=$RATE
		echo "== $mode, $load ($rate probes/s, $LEGIT_RATE legit/s, ${DURATION}s, upstream work $WORK)"
		f0=$(cpu "$front")
		u0=$(cpu "$up_pid")
		if [[ $rate != 0 ]]; then
			# The flood comes from its own process, as it would from other
			# machines; it starts a second before the timed window and ends
			# a second after it.
			"$bin" loadgen --target "http://$FRONT" --duration "$((DURATION + 2))s" --probe-rate "$rate" \
				--legit-rate 0 --upstream-stats "http://$UP/__loadgen/stats" >"$bin.flood" &
			flood=$!
			pids+=($flood)
			sleep 1
		fi
		"$bin" loadgen --target "http://$FRONT" --duration "${DURATION}s" --probe-rate 0 \
			--legit-rate "$LEGIT_RATE" --upstream-stats "http://$UP/__loadgen/stats" | grep -v '^probes'
		if [[ $rate != 0 ]]; then
			wait "$flood"
			echo "flood process:"
			grep -v '^legit' "$bin.flood"
		fi
		echo "front ($mode) CPU $(awk -v a="$(cpu "$front")" -v b="$f0" 'BEGIN { printf "%.2f", a - b }') s," \
			"upstream CPU $(awk -v a="$(cpu "$up_pid")" -v b="$u0" 'BEGIN { printf "%.2f", a - b }') s over the whole run"
		sleep 1
	done
	kill -TERM "$front"
	wait "$front" || true
done
