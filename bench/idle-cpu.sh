#!/usr/bin/env bash
# Idle cost of a local three-region cluster: starts `node dist/infra/cluster/main.js` (what
# `npm start` runs, after `npm run -s build`) on its own databases, ports and topic prefix, waits
# until every region is ready plus BENCH_SETTLE seconds, then counts each region process's CPU
# ticks (/proc/<pid>/stat utime+stime) over BENCH_SECONDS (60) and prints cores used. Prints
# figures, asserts nothing. Uses the broker named by KAFKA_BROKERS (with
# STOCKMESH_KAFKA_CREDENTIALS); stops the cluster at the end (its databases stay, named smidle_*).
set -euo pipefail
seconds=${BENCH_SECONDS:-60}
settle=${BENCH_SETTLE:-15}
tag=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
log=$(mktemp -t idle-cpu.XXXXXX)
echo "idle-cpu: starting a cluster (log $log), topics idle${tag}.*"
STOCKMESH_DB_PREFIX=smidle STOCKMESH_BASE_PORT=${BENCH_BASE_PORT:-4960} STOCKMESH_INTERNAL_BASE_PORT=${BENCH_INTERNAL_BASE_PORT:-4980} \
  KAFKA_TOPIC_PREFIX="idle${tag}." node dist/infra/cluster/main.js >"$log" 2>&1 &
launcher=$!
trap 'kill -INT $launcher 2>/dev/null || true; wait $launcher 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  grep -q 'stockmesh is running' "$log" && break
  kill -0 $launcher 2>/dev/null || { echo "idle-cpu: the cluster stopped:"; tail -20 "$log"; exit 1; }
  sleep 0.5
done
grep -q 'stockmesh is running' "$log" || { echo "idle-cpu: not ready after 120 s"; exit 1; }
echo "idle-cpu: ready; settling ${settle} s, then measuring ${seconds} s"
sleep "$settle"
pids=$(pgrep -P $launcher)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A before
for p in $pids; do before[$p]=$(ticks "$p"); done
load0=$(cut -d' ' -f1-3 /proc/loadavg)
sleep "$seconds"
hz=$(getconf CLK_TCK)
total=0
for p in $pids; do
  d=$(( $(ticks "$p") - ${before[$p]} ))
  total=$(( total + d ))
  region=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^STOCKMESH_REGION=//p')
  awk -v r="${region:-?}" -v d="$d" -v hz="$hz" -v s="$seconds" 'BEGIN { printf "  %-10s %.3f cores\n", r, d / hz / s }'
done
awk -v d="$total" -v hz="$hz" -v s="$seconds" 'BEGIN { printf "idle-cpu: regions %.3f cores in all (ceiling of the goal: 0.1)\n", d / hz / s }'
echo "idle-cpu: load average before ${load0}, after $(cut -d' ' -f1-3 /proc/loadavg)"
