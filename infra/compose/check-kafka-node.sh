#!/usr/bin/env bash
# Runs docker-compose's secured Kafka cluster without Docker, step for step as `docker compose up`
# would, and checks what each principal may do:
#   1. make-kafka-passwords makes every principal's password (one folder per principal, as the volumes are)
#   2. three infra/compose/kafka-node.sh nodes start on this host, from the Maven jars kafka.sh fetches
#   3. each node's healthcheck (kafka-node.sh health) passes
#   4. infra/kafka/acls.mjs grants the ACLs with the admin's password file (the kafka-acls service)
#   5. infra/compose/check-principals.mjs: region principals create and write stockmesh's topics,
#      external may write the commands topic only, wrong passwords are refused; and
#      check-region-config.mjs: a region's own configuration code reads its password file as
#      docker-compose gives it, and its producer writes with it
#   6. node 3 is stopped and started again on its formatted storage, and the checks run again
# Everything lives in a temporary folder, removed at the end with the nodes this script started.
#
#   infra/compose/check-kafka-node.sh
#
# Environment: KAFKA_CHECK_PORT (first client port, default 29092; node n uses +n-1, its controller
# +100+n-1), KAFKA_LIBS (default $STOCKMESH_HOME/kafka/libs, fetched by kafka.sh fetch when missing),
# KAFKA_CHECK_KEEP=1 keeps the temporary folder. Needs Java 17+, node and npm ci.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
STOCKMESH_HOME="${STOCKMESH_HOME:-$REPO_ROOT/.stockmesh}"
export KAFKA_LIBS="${KAFKA_LIBS:-$STOCKMESH_HOME/kafka/libs}"
PORT="${KAFKA_CHECK_PORT:-29092}"
REGIONS=us-east,eu-west,ap-south
NODES=3

say() { echo "check-kafka-node: $*"; }
die() {
  echo "check-kafka-node: ERROR: $*" >&2
  exit 1
}
started_at="$(date +%s)"
elapsed() { echo "$(($(date +%s) - started_at)) s"; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "KAFKA_CHECK_PORT must be a port number, got '$PORT'"
for ((n = 0; n < NODES; n++)); do
  for p in $((PORT + n)) $((PORT + 100 + n)); do
    ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || die "port $p is in use; set KAFKA_CHECK_PORT"
  done
done
if ! compgen -G "$KAFKA_LIBS/kafka-clients-*.jar" >/dev/null; then
  say "no Kafka jars in $KAFKA_LIBS: bash infra/kafka/kafka.sh fetch"
  bash "$REPO_ROOT/infra/kafka/kafka.sh" fetch
fi
maker="$REPO_ROOT/dist/infra/compose/make-kafka-passwords.js"
if [[ ! -f "$maker" || -n "$(find "$REPO_ROOT/infra/compose" "$REPO_ROOT/libs/config/src" "$REPO_ROOT/libs/messaging/src" -name '*.ts' -newer "$maker" | head -n 1)" ]]; then
  say "building (dist/ is missing or older than the code this check runs): npm run -s build"
  (cd "$REPO_ROOT" && npm run -s build)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/check-kafka-node.XXXXXX")"
declare -a PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KAFKA_CHECK_KEEP:-}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

BROKERS="$(for ((n = 0; n < NODES; n++)); do printf '%s127.0.0.1:%d' "$([[ $n == 0 ]] || echo ,)" $((PORT + n)); done)"
VOTERS="$(for ((n = 0; n < NODES; n++)); do printf '%s%d@127.0.0.1:%d' "$([[ $n == 0 ]] || echo ,)" $((n + 1)) $((PORT + 100 + n)); done)"
CLUSTER_ID="$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"

say "1. passwords: node dist/infra/compose/make-kafka-passwords.js $WORK/passwords $REGIONS"
for principal in admin region-us-east region-eu-west region-ap-south external; do mkdir -p "$WORK/passwords/$principal"; done
node "$maker" "$WORK/passwords" "$REGIONS"

# NODE_ENV: the environment docker-compose gives node $1, moved to this host's loopback and free ports.
node_env() {
  local n="$1"
  NODE_ENV=(KAFKA_NODE_ID="$n" CLUSTER_ID="$CLUSTER_ID" KAFKA_CONTROLLER_QUORUM_VOTERS="$VOTERS" \
    KAFKA_LISTEN_HOST=127.0.0.1 KAFKA_ADVERTISED_HOST=127.0.0.1 \
    KAFKA_CLIENT_PORT=$((PORT + n - 1)) KAFKA_CONTROLLER_PORT=$((PORT + 100 + n - 1)) \
    KAFKA_PASSWORDS_DIR="$WORK/passwords" STOCKMESH_REGIONS="$REGIONS" \
    KAFKA_DATA_DIR="$WORK/node-$n/data" KAFKA_CONFIG_DIR="$WORK/node-$n/config" \
    KAFKA_LOG4J="$REPO_ROOT/infra/kafka/log4j.properties" KAFKA_TOOLS_LOG4J="$REPO_ROOT/infra/kafka/log4j.properties")
}
start_node() {
  local n="$1"
  mkdir -p "$WORK/node-$n"
  node_env "$n"
  setsid nohup env "${NODE_ENV[@]}" bash "$SCRIPT_DIR/kafka-node.sh" start >>"$WORK/node-$n/node.log" 2>&1 </dev/null &
  PIDS[n]=$!
  say "   node $n pid ${PIDS[n]} on 127.0.0.1:$((PORT + n - 1)) (log $WORK/node-$n/node.log)"
}
wait_healthy() {
  local n="$1" deadline=$(($(date +%s) + 120))
  node_env "$n"
  until env "${NODE_ENV[@]}" bash "$SCRIPT_DIR/kafka-node.sh" health 2>"$WORK/node-$n/health.err"; do
    if ! kill -0 "${PIDS[n]}" 2>/dev/null; then
      tail -n 30 "$WORK/node-$n/node.log" >&2
      die "node $n exited"
    fi
    if (($(date +%s) > deadline)); then
      tail -n 30 "$WORK/node-$n/node.log" >&2
      die "node $n not healthy after 120 s: $(cat "$WORK/node-$n/health.err")"
    fi
    sleep 2
  done
  say "   node $n healthy ($(elapsed))"
}

say "2. three nodes: infra/compose/kafka-node.sh, cluster $CLUSTER_ID"
for ((n = 1; n <= NODES; n++)); do start_node "$n"; done
say "3. healthchecks: kafka-node.sh health"
for ((n = 1; n <= NODES; n++)); do wait_healthy "$n"; done
grep -h 'kafka-node:' "$WORK"/node-*/node.log | sed 's/^/   /'

say "4. ACLs: node infra/kafka/acls.mjs --brokers $BROKERS --admin-password-file .../admin/password --regions $REGIONS"
node "$REPO_ROOT/infra/kafka/acls.mjs" --brokers "$BROKERS" --admin-password-file "$WORK/passwords/admin/password" --regions "$REGIONS"

say "5. what each principal may do"
node "$SCRIPT_DIR/check-principals.mjs" --brokers "$BROKERS" --passwords "$WORK/passwords"
node "$SCRIPT_DIR/check-region-config.mjs" --brokers "$BROKERS" --passwords "$WORK/passwords" --region ap-south

say "6. node 3 stopped (SIGTERM) and started again on its formatted storage"
kill -TERM "${PIDS[3]}"
for _ in $(seq 1 150); do kill -0 "${PIDS[3]}" 2>/dev/null || break; sleep 0.2; done
! kill -0 "${PIDS[3]}" 2>/dev/null || die "node 3 did not stop within 30 s"
start_node 3
wait_healthy 3
tail -n +1 "$WORK/node-3/node.log" | grep 'kafka-node:' | tail -n 2 | sed 's/^/   /'
node "$SCRIPT_DIR/check-principals.mjs" --brokers "$BROKERS" --passwords "$WORK/passwords"

say "every step passed in $(elapsed)"
