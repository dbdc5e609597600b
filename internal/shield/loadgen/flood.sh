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
# (default 15), WORK the upstream's CPU per request (default 0s). MODES picks
# the fronts (default "shield plain nginx"; nginx is skipped if absent),
# WORMLAB a wormlab binary to use instead of building one,
# LEGIT_RATE the legitimate requests a second (default 200), ROUNDS how
# many times to repeat the whole set (default 1), so that other work on
# the machine falls on every front alike.
set -euo pipefail
RATE=${1:-10000}
DURATION=${2:-15}
WORK=${3:-0s}
LEGIT_RATE=${LEGIT_RATE:-200}
UP=127.0.0.1:18081
FRONT=127.0.0.1:18080
cd "$(dirname "$0")/../../.."
bin=$(mktemp -d)/wormlab
if [[ -n ${WORMLAB:-} ]]; then
	cp "$WORMLAB" "$bin" # a binary built elsewhere
else
	go build -o "$bin" ./cmd/wormlab
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# cpu PID: user+system seconds the process and its children (nginx's
# workers) have used so far.
cpu() {
	local p files=("/proc/$1/stat")
	for p in $(pgrep -P "$1" || true); do files+=("/proc/$p/stat"); done
	cat "${files[@]}" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.2f", s / hz }'
}

# nginx, if installed (Debian's nginx-light will do), is the front an
# operator would deploy instead: it closes the connection (return 444) for
# the paths the built-in signatures name and proxies the rest over
# keep-alive connections, with two workers for the two cores and
# TCP_DEFER_ACCEPT ("deferred"), as the shield's listener has.
read -ra modes <<<"${MODES:-shield plain nginx}"
if [[ " ${modes[*]} " == *" nginx "* ]] && ! command -v nginx >/dev/null; then
	echo "nginx not installed: skipping it" >&2
	read -ra modes <<<"${modes[*]/nginx/}"
fi
if [[ " ${modes[*]} " == *" nginx "* ]]; then
	ngx=$(mktemp -d)
	cat >"$ngx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $ngx/nginx.pid;
error_log $ngx/error.log error;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $ngx; proxy_temp_path $ngx; fastcgi_temp_path $ngx; uwsgi_temp_path $ngx; scgi_temp_path $ngx;
	upstream up { server $UP; keepalive 256; }
	server {
		listen $FRONT deferred;
		location ~* (\.ida|/root\.exe|/cmd\.exe)\$ { return 444; }
		location / {
			proxy_pass http://up;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
NGINX
fi

"$bin" loadgen upstream --listen "$UP" --work "$WORK" >/dev/null &
pids+=($!)
up_pid=$!
sleep 0.5

for round in $(seq "${ROUNDS:-1}"); do
	for mode in "${modes[@]}"; do
		if [[ $mode == nginx ]]; then
			nginx -c "$ngx/nginx.conf" -e "$ngx/error.log" &
		else
			flags=(--listen "$FRONT" --upstream "http://$UP" --quiet)
			[[ $mode == plain ]] && flags+=(--plain)
			"$bin" shield "${flags[@]}" >/dev/null &
		fi
		front=$!
		pids+=($front)
		sleep 0.5
		for load in "no flood" "flood"; do
			rate=0
			[[ $load == flood ]] && rate=$RATE
			echo "== $mode, $load ($rate probes/s, $LEGIT_RATE legit/s, ${DURATION}s, upstream work $WORK)"
			# Other work on the machine skews every figure: say what it was.
			echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg);" \
				"busiest processes just before: $(top -bn2 -d0.5 -o %CPU | awk '/^ *PID/ { n++; next } n == 2 && c < 3 && $9 > 1 { printf "%s %s%%; ", $12, $9; c++ }')"
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
				--legit-rate "$LEGIT_RATE" --upstream-stats "http://$UP/__loadgen/stats" | grep -v '^probes' | tee "$bin.legit"
			: >"$bin.flood.done"
			if [[ $rate != 0 ]]; then
				wait "$flood"
				echo "flood process:"
				grep -v '^legit' "$bin.flood" | tee "$bin.flood.done"
			fi
			fcpu=$(awk -v a="$(cpu "$front")" -v b="$f0" 'BEGIN { printf "%.2f", a - b }')
			ucpu=$(awk -v a="$(cpu "$up_pid")" -v b="$u0" 'BEGIN { printf "%.2f", a - b }')
			echo "front ($mode) CPU $fcpu s, upstream CPU $ucpu s over the whole run"
			# One line per run for the table at the end: legit p50, p90, p99 (ms),
			# probes sent a second, probes the upstream got, CPU seconds.
			p50=$(awk '/^legit/ { for (i = 1; i <= NF; i++) if ($i == "p50") print $(i + 1) }' "$bin.legit")
			p90=$(awk '/^legit/ { for (i = 1; i <= NF; i++) if ($i == "p90") print $(i + 1) }' "$bin.legit")
			p99=$(awk '/^legit/ { for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1) }' "$bin.legit")
			prate=$(awk '/^probes/ { gsub(/[^0-9.]/, "", $4); print $4 }' "$bin.flood.done")
			uprobes=$(awk '/^upstream received/ { print $7 }' "$bin.flood.done")
			echo "RESULT $mode ${load// /-} p50=$p50 p90=$p90 p99=$p99 probes/s=${prate:-0} upstream-probes=${uprobes:-0} front-cpu=$fcpu upstream-cpu=$ucpu load=$(cut -d' ' -f1 /proc/loadavg)" >>"$bin.results"
			sleep 1
		done
		kill -TERM "$front"
		wait "$front" || true
		sleep 1
	done
done

echo
echo "== every run (legit latency in ms; CPU in seconds over the run, flood included)"
cat "$bin.results"
