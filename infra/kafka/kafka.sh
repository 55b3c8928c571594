#!/usr/bin/env bash
# A local Apache Kafka cluster (KRaft: each node a combined broker+controller, no ZooKeeper) for
# stockmesh development and tests, run natively on Java 17 from jars that Maven resolves
# from Maven Central (infra/kafka/pom.xml). No Docker, no tarball download. One node by default;
# STOCKMESH_KAFKA_NODES=3 runs three, whose controllers form a Raft metadata quorum.
#
#   infra/kafka/kafka.sh fetch    resolve the broker's jars into $STOCKMESH_HOME/kafka/libs (skipped when current)
#   infra/kafka/kafka.sh start    fetch if needed, format storage once, start every node that is not running
#                                 in the background, wait until each is ready
#   infra/kafka/kafka.sh stop     every node: SIGTERM (controlled shutdown), SIGKILL after $KAFKA_STOP_TIMEOUT s
#   infra/kafka/kafka.sh status   "running ..." per node; exit 0 when every node runs, else 3
#   infra/kafka/kafka.sh wait     wait until every node answers a metadata request
#   infra/kafka/kafka.sh logs [N] last N (100) lines of each node's log
#   infra/kafka/kafka.sh quorum   the metadata quorum: leader, voters and their lag (MetadataQuorumCommand)
#   infra/kafka/kafka.sh brokers  prints KAFKA_BROKERS and the topics' replication factor for the nodes here,
#                                 as `<host:port,...> <factor>` (what npm start gives its regions)
#   infra/kafka/kafka.sh add-region <id> [<id> ...]
#                                 a principal for regions the data dir was formatted without, on the
#                                 running node(s): SCRAM user region-<id> (ConfigCommand), the region's
#                                 ACLs (acls.mjs), its password in credentials.json. A region already
#                                 there is left alone; plaintext: nothing to do; KAFKA_BROKERS set: exit 2
#
# Environment:
#   STOCKMESH_HOME          state root (default <repo>/.stockmesh); the broker lives in $STOCKMESH_HOME/kafka:
#                           libs/ (jars), data/ (log.dirs, KRaft metadata), server.properties,
#                           cluster.id, broker.pid, broker.log, credentials.json (SASL passwords, mode 0600);
#                           with several nodes each has node-<n>/ holding its data/, server.properties,
#                           broker.pid and broker.log, and cluster.id, credentials.json and libs/ are shared
#   STOCKMESH_KAFKA_NODES   nodes to start (default 1; 3 for a quorum that survives the loss of one node).
#                           A data dir keeps the node count it was formatted with (status/stop/logs/wait
#                           follow what is on disk). Replication factor min(3, nodes) for every topic
#                           including the internal ones, min.insync.replicas min(2, that)
#   KAFKA_SECURITY          sasl (default for a new data dir) | plaintext. With sasl the broker accepts only
#                           SASL/SCRAM-SHA-512 clients and enforces ACLs (acls.mjs): users admin (super
#                           user), region-<id> per region, external. A data dir formatted before keeps
#                           the mode it was formatted with (credentials.json present = sasl).
#   STOCKMESH_REGIONS       regions that get a principal at format time (default us-east,eu-west,ap-south);
#                           start warns about those credentials.json lacks (add-region gives them one)
#   KAFKA_ADMIN_PASSWORD, KAFKA_EXTERNAL_PASSWORD, KAFKA_REGION_PASSWORD_<REGION> (e.g. ..._US_EAST)
#                           passwords for a new data dir, and a region's for add-region
#                           (16-128 of A-Z a-z 0-9 . _ ~ -); random when unset
#   KAFKA_ACL_TOPIC_PREFIX  regions get the topics and groups starting with it (default: every topic and
#                           group); start and add-region grant with it, so give add-region start's
#   KAFKA_BROKERS           if set, an external cluster is used: start does nothing, wait/status probe it,
#                           add-region refuses
#   KAFKA_PORT              client listener, 127.0.0.1 (default 9092); node n listens on KAFKA_PORT+n-1
#   KAFKA_CONTROLLER_PORT   KRaft controller listener, 127.0.0.1 (default 9093 for one node, KAFKA_PORT+100
#                           for several); node n on KAFKA_CONTROLLER_PORT+n-1
#   KAFKA_HEAP_MAX          -Xmx of each node (default 512m for one node, 384m each for several)
#   KAFKA_JVM_OPTS          extra JVM options for the broker (word-split)
#   KAFKA_LOG_LEVEL         root log level of the broker (default WARN; see log4j.properties)
#   KAFKA_START_TIMEOUT     seconds for start/wait to see the broker ready (default 90)
#   KAFKA_STOP_TIMEOUT      seconds between SIGTERM and SIGKILL (default 30)
#   KAFKA_READY_PROBE       auto (default: kafkajs via wait-ready.mjs, else the JVM tool) | node | java
#   JAVA_HOME, MVN          which java (17+) and mvn to use
#
# Readiness = the TCP port accepts connections AND a metadata request succeeds: kafkajs
# admin().describeCluster() (wait-ready.mjs) when kafkajs is installed, otherwise
# kafka.admin.BrokerApiVersionsCommand from the broker's own jars (it sends Metadata, then ApiVersions).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_PROPS="$SCRIPT_DIR/log4j.properties"
WAIT_READY_MJS="$SCRIPT_DIR/wait-ready.mjs"

STOCKMESH_HOME="${STOCKMESH_HOME:-$REPO_ROOT/.stockmesh}"
KAFKA_DIR="$STOCKMESH_HOME/kafka"
LIBS_DIR="$KAFKA_DIR/libs"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
STAMP_FILE="$LIBS_DIR/.stockmesh-kafka-stamp"
CRED_FILE="$KAFKA_DIR/credentials.json"
ADMIN_CLIENT_PROPS="$KAFKA_DIR/admin-client.properties"
ACLS_MJS="$SCRIPT_DIR/acls.mjs"
# sasl_server_properties, common_server_properties: shared with docker-compose's nodes
# shellcheck source=SCRIPTDIR/server-properties.sh
source "$SCRIPT_DIR/server-properties.sh"

say() { echo "kafka.sh: $*"; }
warn() { echo "kafka.sh: warning: $*" >&2; }
die() {
  echo "kafka.sh: ERROR: $*" >&2
  exit 1
}

KAFKA_HOST=127.0.0.1
KAFKA_NODES="${STOCKMESH_KAFKA_NODES:-1}"
[[ "$KAFKA_NODES" =~ ^[1-9]$ ]] || die "STOCKMESH_KAFKA_NODES must be 1-9, got '$KAFKA_NODES'"
KAFKA_PORT="${KAFKA_PORT:-9092}"
[[ "$KAFKA_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_PORT must be a port number, got '$KAFKA_PORT'"
# How many nodes $KAFKA_DIR was formatted with: the node-<n>/ folders, 1 for the single-node
# layout (data/ directly in $KAFKA_DIR), 0 for a new one.
formatted_nodes() {
  local n=0
  while [[ -f "$KAFKA_DIR/node-$((n + 1))/data/meta.properties" ]]; do n=$((n + 1)); done
  if ((n == 0)) && [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then n=1; fi
  echo "$n"
}
# The node count this run works with: what is on disk, else STOCKMESH_KAFKA_NODES.
NODES_HERE="$(formatted_nodes)"
((NODES_HERE > 0)) || NODES_HERE="$KAFKA_NODES"
if ((NODES_HERE == 1)); then
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
  KAFKA_HEAP_MAX="${KAFKA_HEAP_MAX:-512m}"
  KAFKA_HEAP_MIN=256m
else
  KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}"
  KAFKA_HEAP_MAX="${KAFKA_HEAP_MAX:-384m}"
  KAFKA_HEAP_MIN=128m
fi
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-WARN}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_READY_PROBE="${KAFKA_READY_PROBE:-auto}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
MVN="${MVN:-mvn}"
KAFKA_SECURITY="${KAFKA_SECURITY:-}"
STOCKMESH_REGIONS="${STOCKMESH_REGIONS:-us-east,eu-west,ap-south}"
KAFKA_ACL_TOPIC_PREFIX="${KAFKA_ACL_TOPIC_PREFIX:-}"
# The credentials the readiness probes authenticate with: the local broker's admin, once it has one.
PROBE_CREDENTIALS=""
[[ -n "${KAFKA_BROKERS:-}" || ! -f "$CRED_FILE" ]] || PROBE_CREDENTIALS="$CRED_FILE"

now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME//[!0-9]/}"
    echo $((10#$t / 1000))
  else
    date +%s%3N
  fi
}
secs_since() { # $1 = start in ms -> "1.234"
  local d=$(($(now_ms) - $1))
  printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_uint "$KAFKA_PORT" || die "KAFKA_PORT must be a port number, got '$KAFKA_PORT'"
is_uint "$KAFKA_CONTROLLER_PORT" || die "KAFKA_CONTROLLER_PORT must be a port number, got '$KAFKA_CONTROLLER_PORT'"
is_uint "$KAFKA_START_TIMEOUT" || die "KAFKA_START_TIMEOUT must be whole seconds, got '$KAFKA_START_TIMEOUT'"
is_uint "$KAFKA_STOP_TIMEOUT" || die "KAFKA_STOP_TIMEOUT must be whole seconds, got '$KAFKA_STOP_TIMEOUT'"

# ---------------------------------------------------------------- nodes


# Every port a node uses, as one list: a node's ports must not collide with another's.
(( (KAFKA_CONTROLLER_PORT >= KAFKA_PORT + NODES_HERE) || (KAFKA_PORT >= KAFKA_CONTROLLER_PORT + NODES_HERE) )) ||
  die "client ports $KAFKA_PORT+ and controller ports $KAFKA_CONTROLLER_PORT+ overlap for $NODES_HERE node(s); move KAFKA_CONTROLLER_PORT"

# The client addresses of every node, comma-separated (what KAFKA_BROKERS takes).
LOCAL_BROKERS="$(n=0; while ((n < NODES_HERE)); do printf '%s%s:%d' "$([[ $n == 0 ]] || echo ,)" "$KAFKA_HOST" $((KAFKA_PORT + n)); n=$((n + 1)); done)"
# node.id@host:port of every controller: the static Raft voter set.
QUORUM_VOTERS="$(n=0; while ((n < NODES_HERE)); do printf '%s%d@%s:%d' "$([[ $n == 0 ]] || echo ,)" $((n + 1)) "$KAFKA_HOST" $((KAFKA_CONTROLLER_PORT + n)); n=$((n + 1)); done)"
# Replication of every topic, internal ones included: three copies when there are three nodes,
# and a write needs two of them (one node may be lost without losing an acknowledged write).
REPLICATION_FACTOR=$((NODES_HERE < 3 ? NODES_HERE : 3))
MIN_INSYNC=$((REPLICATION_FACTOR < 2 ? REPLICATION_FACTOR : 2))

# Points NODE_* and the per-node paths at node $1 (1-based).
use_node() {
  NODE_ID="$1"
  NODE_PORT=$((KAFKA_PORT + NODE_ID - 1))
  NODE_CONTROLLER_PORT=$((KAFKA_CONTROLLER_PORT + NODE_ID - 1))
  NODE_BROKER="$KAFKA_HOST:$NODE_PORT"
  if ((NODES_HERE == 1)); then NODE_DIR="$KAFKA_DIR"; else NODE_DIR="$KAFKA_DIR/node-$NODE_ID"; fi
  NODE_NAME="node $NODE_ID"
  ((NODES_HERE > 1)) || NODE_NAME=broker
  DATA_DIR="$NODE_DIR/data"
  PROPS_FILE="$NODE_DIR/server.properties"
  PID_FILE="$NODE_DIR/broker.pid"
  BROKER_LOG="$NODE_DIR/broker.log"
}
use_node 1

[[ -f "$POM" ]] || die "missing $POM"
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)"
[[ -n "$KAFKA_VERSION" ]] || die "cannot read <kafka.version> from $POM"

# ---------------------------------------------------------------- helpers

expected_stamp() {
  local sum
  sum="$(sha256sum "$POM" | cut -d' ' -f1)"
  echo "kafka.version=$KAFKA_VERSION pom.sha256=$sum"
}

libs_current() {
  [[ -f "$STAMP_FILE" && -f "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" ]] &&
    [[ "$(cat "$STAMP_FILE")" == "$(expected_stamp)" ]]
}

require_java() {
  if ! command -v "$JAVA" >/dev/null 2>&1; then
    die "java not found ('$JAVA'): Kafka needs Java 17+ (apt-get install openjdk-17-jre-headless, or set JAVA_HOME)"
  fi
  local line major
  line="$("$JAVA" -version 2>&1 | head -n 1 || true)"
  major="$(sed -n 's/.*version "\([0-9]*\).*/\1/p' <<<"$line")"
  if [[ -z "$major" ]]; then
    die "cannot tell the version of '$JAVA' (it printed: $line)"
  fi
  if ((major < 17)); then
    die "'$JAVA' is Java $major; Java 17+ is required (set JAVA_HOME)"
  fi
}

# pid of the broker this script started from $KAFKA_DIR, if it is alive; empty otherwise
broker_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  if [[ -r "/proc/$pid/cmdline" ]]; then
    # guard against a recycled pid: it must be kafka.Kafka with our server.properties
    local cmd
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmd" == *kafka.Kafka*"$PROPS_FILE"* ]] || return 0
  fi
  echo "$pid"
}

port_open() { # host port
  timeout 2 bash -c ">/dev/tcp/$1/$2" 2>/dev/null
}

# Are kafkajs and node usable for the probe? (cached)
NODE_PROBE_OK=""
node_probe_available() {
  if [[ -z "$NODE_PROBE_OK" ]]; then
    NODE_PROBE_OK=no
    if [[ "$KAFKA_READY_PROBE" != java ]] && command -v node >/dev/null 2>&1 &&
      (cd "$SCRIPT_DIR" && node --input-type=module -e "await import('kafkajs')" >/dev/null 2>&1); then
      NODE_PROBE_OK=yes
    fi
    # node resolves a bare import from -e against the cwd, like wait-ready.mjs does from its own folder
  fi
  [[ "$NODE_PROBE_OK" == yes ]]
}

# One JVM probe: Metadata then ApiVersions via kafka.admin.BrokerApiVersionsCommand.
JAVA_PROBE_LAST_ERROR=""
java_probe_once() { # brokers
  local out
  local -a auth=()
  [[ -z "$PROBE_CREDENTIALS" ]] || auth=(--command-config "$ADMIN_CLIENT_PROPS")
  if out="$(timeout 30 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$LOG4J_PROPS" -Dstockmesh.kafka.log.level=ERROR \
    -cp "$LIBS_DIR/*" kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$1" "${auth[@]}" 2>&1)"; then
    return 0
  fi
  JAVA_PROBE_LAST_ERROR="$(grep -m1 -E 'Exception|Error' <<<"$out" || tail -n 1 <<<"$out")"
  return 1
}

# wait_ready BROKERS TIMEOUT_SECONDS [PID] [quiet]
#   0 ready, 1 timed out, 3 PID died
wait_ready() {
  local brokers="$1" timeout_s="$2" pid="${3:-}" quiet="${4:-}"
  local start deadline
  start="$(now_ms)"
  deadline=$((start + timeout_s * 1000))
  local first="${brokers%%,*}"
  local host="${first%:*}" port="${first##*:}"

  # 1) TCP
  until port_open "$host" "$port"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 3; fi
    if (($(now_ms) >= deadline)); then
      [[ -n "$quiet" ]] || warn "nothing accepts TCP connections on $first after ${timeout_s}s"
      return 1
    fi
    sleep 0.2
  done
  [[ -n "$quiet" ]] || say "TCP $first open after $(secs_since "$start")s; waiting for a metadata response"

  # 2) metadata request
  local left_ms=$((deadline - $(now_ms)))
  ((left_ms > 1000)) || left_ms=1000
  if [[ "$KAFKA_READY_PROBE" != java ]] && node_probe_available; then
    local rc=0 args=(--brokers "$brokers" --timeout-ms "$left_ms")
    [[ -z "$pid" ]] || args+=(--pid "$pid")
    [[ -z "$PROBE_CREDENTIALS" ]] || args+=(--credentials "$PROBE_CREDENTIALS")
    [[ -z "$quiet" ]] || args+=(--quiet)
    if [[ -n "$quiet" ]]; then
      node "$WAIT_READY_MJS" "${args[@]}" >/dev/null 2>&1 || rc=$?
    else
      node "$WAIT_READY_MJS" "${args[@]}" || rc=$?
    fi
    case "$rc" in
      0 | 1 | 3) return "$rc" ;;
      *) [[ -n "$quiet" ]] || warn "wait-ready.mjs exited $rc; falling back to the JVM probe" ;;
    esac
  elif [[ "$KAFKA_READY_PROBE" == node ]]; then
    die "KAFKA_READY_PROBE=node but node or kafkajs is not available (npm ci in $REPO_ROOT)"
  fi

  libs_current || die "cannot probe $brokers: kafkajs is not installed (npm ci) and the Kafka jars are not fetched (kafka.sh fetch)"
  local attempts=0
  while :; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 3; fi
    attempts=$((attempts + 1))
    if java_probe_once "$brokers"; then
      [[ -n "$quiet" ]] || say "metadata request to $brokers answered after $(secs_since "$start")s ($attempts JVM probe(s))"
      return 0
    fi
    if (($(now_ms) >= deadline)); then
      [[ -n "$quiet" ]] || warn "$brokers did not answer a metadata request within ${timeout_s}s; last error: $JAVA_PROBE_LAST_ERROR"
      return 1
    fi
    sleep 0.5
  done
}

print_log_tail() { # from_line
  local from="${1:-1}"
  echo "---------- $BROKER_LOG (last 40 lines of this start) ----------" >&2
  tail -n +"$from" "$BROKER_LOG" 2>/dev/null | tail -n 40 >&2 || true
  echo "----------------------------------------------------------------" >&2
}

# Serialize start/stop/fetch on one STOCKMESH_HOME (e.g. several test workers calling start at once).
take_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$KAFKA_DIR"
  exec 9>"$KAFKA_DIR/.kafka.sh.lock"
  if ! flock -n 9; then
    say "another kafka.sh is working on $KAFKA_DIR; waiting for it"
    flock -w $((KAFKA_START_TIMEOUT + 120)) 9 || die "timed out waiting for the lock $KAFKA_DIR/.kafka.sh.lock"
  fi
}

# ---------------------------------------------------------------- commands

cmd_fetch() {
  if libs_current; then
    say "jars for Kafka $KAFKA_VERSION already in $LIBS_DIR (stamp matches $POM); skipping fetch"
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 ||
    die "'$MVN' not found: Maven resolves the Kafka jars from Maven Central (apt-get install maven, or set MVN)"
  mkdir -p "$KAFKA_DIR"
  local tmp="$LIBS_DIR.tmp.$$" start
  rm -rf "$tmp"
  start="$(now_ms)"
  say "resolving Kafka $KAFKA_VERSION runtime jars: $MVN -B -q -f $POM dependency:copy-dependencies -DoutputDirectory=$LIBS_DIR -DincludeScope=runtime"
  if ! "$MVN" -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime; then
    rm -rf "$tmp"
    die "Maven could not resolve the Kafka $KAFKA_VERSION jars (see its output above; Maven Central reachable? ~/.m2 writable?)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || {
    rm -rf "$tmp"
    die "Maven ran, but kafka_2.13-$KAFKA_VERSION.jar is not among the copied jars"
  }
  # every org.apache.kafka jar must carry the same version (mixed versions fail at run time)
  local jar base stray=""
  for jar in "$tmp"/kafka_2.13-*.jar "$tmp"/kafka-*.jar; do
    [[ -e "$jar" ]] || continue
    base="$(basename "$jar")"
    [[ "$base" == *"-$KAFKA_VERSION.jar" ]] || stray+=" $base"
  done
  if [[ -n "$stray" ]]; then
    rm -rf "$tmp"
    die "Kafka jars of another version than $KAFKA_VERSION on the classpath:$stray (check mvn -f $POM dependency:tree -Dincludes=org.apache.kafka)"
  fi
  expected_stamp >"$tmp/$(basename "$STAMP_FILE")"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  say "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1)) into $LIBS_DIR in $(secs_since "$start")s"
  local pid
  pid="$(broker_pid)"
  [[ -z "$pid" ]] || warn "broker pid $pid still runs on the previous jars: kafka.sh stop && kafka.sh start"
}

# ---------------------------------------------------------------- SASL and ACLs

# sasl or plaintext: what the data dir was formatted for, or KAFKA_SECURITY (default sasl) for a new one.
security_mode() {
  if [[ -f "$CRED_FILE" ]]; then
    [[ "$KAFKA_SECURITY" != plaintext ]] ||
      die "KAFKA_SECURITY=plaintext, but $KAFKA_DIR was formatted with SASL users ($CRED_FILE); rm -rf $DATA_DIR $CRED_FILE $CLUSTER_ID_FILE wipes the broker to change"
    echo sasl
  elif [[ -f "$DATA_DIR/meta.properties" ]]; then
    [[ "$KAFKA_SECURITY" != sasl ]] ||
      die "KAFKA_SECURITY=sasl, but $DATA_DIR was formatted without SASL users; rm -rf $DATA_DIR $CLUSTER_ID_FILE wipes the broker to change"
    echo plaintext
  else
    case "${KAFKA_SECURITY:-sasl}" in
      sasl | plaintext) echo "${KAFKA_SECURITY:-sasl}" ;;
      *) die "KAFKA_SECURITY must be sasl or plaintext, got '$KAFKA_SECURITY'" ;;
    esac
  fi
}

is_region_id() { [[ "$1" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]]; }

region_ids() {
  local r
  for r in ${STOCKMESH_REGIONS//,/ }; do
    is_region_id "$r" || die "STOCKMESH_REGIONS: '$r' is not a region id"
    echo "$r"
  done
}

# admin, region-<id> for each region, external
scram_users() {
  echo admin
  local r
  for r in $(region_ids); do echo "region-$r"; done
  echo external
}

# The password of a user from the credentials file (written by write_credentials, one user a line).
user_password() {
  sed -n "s/^    \"$1\": \"\([^\"]*\)\",\{0,1\}\$/\1/p" "$CRED_FILE"
}

# A password given in the environment for USER, or a new random one (192 bits).
new_password() {
  local user="$1" var given
  case "$user" in
    admin) var=KAFKA_ADMIN_PASSWORD ;;
    external) var=KAFKA_EXTERNAL_PASSWORD ;;
    *) var="KAFKA_REGION_PASSWORD_$(tr 'a-z-' 'A-Z_' <<<"${user#region-}")" ;;
  esac
  given="${!var:-}"
  if [[ -n "$given" ]]; then
    [[ "$given" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] || die "$var must be 16-128 characters of A-Z a-z 0-9 . _ ~ -"
    echo "$given"
  else
    head -c 24 /dev/urandom | base64 | tr '+/' '-_'
  fi
}

# Writes credentials.json (mode 0600) for a data dir about to be formatted with SASL users.
write_credentials() {
  local user
  local -a users pairs=()
  mapfile -t users < <(scram_users)
  for user in "${users[@]}"; do pairs+=("$user" "$(new_password "$user")"); done
  write_credentials_file "${pairs[@]}"
  say "wrote the passwords of ${users[*]} to $CRED_FILE (mode 0600)"
}

# Replaces credentials.json with these users (arguments: user password user password ...), one
# user a line as user_password reads it. Written to a file of its own (mode 0600 from the start)
# and renamed over the old one: a reader sees the old file or the new, never half of one.
write_credentials_file() {
  local tmp="$CRED_FILE.tmp.$$" sep
  (
    umask 077
    {
      echo '{'
      echo '  "mechanism": "scram-sha-512",'
      echo '  "users": {'
      while (($# > 0)); do
        sep=,
        (($# > 2)) || sep=
        echo "    \"$1\": \"$2\"$sep"
        shift 2
      done
      echo '  }'
      echo '}'
    } >"$tmp"
  )
  mv "$tmp" "$CRED_FILE"
}

# What a JVM tool needs to talk to the broker as admin (mode 0600).
write_admin_client_properties() {
  local password
  password="$(user_password admin)"
  (
    umask 077
    cat >"$ADMIN_CLIENT_PROPS" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
EOF
  )
}

grant_acls() {
  command -v node >/dev/null 2>&1 || die "node is needed to grant the broker's ACLs ($ACLS_MJS)"
  say "granting ACLs: node $ACLS_MJS --brokers $LOCAL_BROKERS --regions $STOCKMESH_REGIONS${KAFKA_ACL_TOPIC_PREFIX:+ --topic-prefix $KAFKA_ACL_TOPIC_PREFIX}"
  node "$ACLS_MJS" --brokers "$LOCAL_BROKERS" --credentials "$CRED_FILE" --regions "$STOCKMESH_REGIONS" \
    --topic-prefix "$KAFKA_ACL_TOPIC_PREFIX" || die "could not grant the ACLs (see above)"
}

write_server_properties() {
  if [[ "$1" == sasl ]]; then
    write_sasl_server_properties
    return
  fi
  cat >"$PROPS_FILE.tmp" <<EOF
# Written by infra/kafka/kafka.sh on every start; edits here are overwritten.
# KRaft node $NODE_ID of $NODES_HERE: one process is both broker and controller, static quorum, loopback only.
# Plaintext, no authentication (KAFKA_SECURITY=plaintext, or a data dir formatted before SASL).
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$QUORUM_VOTERS
listeners=PLAINTEXT://$NODE_BROKER,CONTROLLER://$KAFKA_HOST:$NODE_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$NODE_BROKER
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
$(common_server_properties "$NODES_HERE" "$REPLICATION_FACTOR" "$MIN_INSYNC")
EOF
  mv "$PROPS_FILE.tmp" "$PROPS_FILE"
}

# SASL/SCRAM-SHA-512 on the client listener, ACLs enforced (server-properties.sh says how).
write_sasl_server_properties() {
  local password
  password="$(user_password admin)"
  [[ -n "$password" ]] || die "$CRED_FILE has no admin password"
  (
    umask 077
    cat >"$PROPS_FILE.tmp" <<EOF
# Written by infra/kafka/kafka.sh on every start; edits here are overwritten. Holds the admin password.
# KRaft node $NODE_ID of $NODES_HERE: one process is both broker and controller, static quorum, loopback only.
$(sasl_server_properties "$NODE_ID" "$QUORUM_VOTERS" "$NODE_BROKER" "$KAFKA_HOST:$NODE_CONTROLLER_PORT" "$NODE_BROKER" "$DATA_DIR" "$password")
$(common_server_properties "$NODES_HERE" "$REPLICATION_FACTOR" "$MIN_INSYNC")
EOF
  )
  mv "$PROPS_FILE.tmp" "$PROPS_FILE"
}

ensure_formatted() {
  local meta="$DATA_DIR/meta.properties" cid=""
  if [[ -f "$CLUSTER_ID_FILE" ]]; then
    cid="$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")"
  elif [[ -f "$meta" ]]; then
    cid="$(sed -n 's/^cluster\.id=//p' "$meta" | tr -d '[:space:]')"
    [[ -z "$cid" ]] || {
      say "recovered cluster id $cid from $meta"
      echo "$cid" >"$CLUSTER_ID_FILE"
    }
  fi
  if [[ -z "$cid" ]]; then
    cid="$("$JAVA" -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 | tr -d '[:space:]')" ||
      die "kafka.tools.StorageTool random-uuid failed"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid printed '$cid', not a cluster id"
    echo "$cid" >"$CLUSTER_ID_FILE"
    say "new cluster id $cid (kept in $CLUSTER_ID_FILE)"
  fi
  if [[ -f "$meta" ]]; then
    local have
    have="$(sed -n 's/^cluster\.id=//p' "$meta" | tr -d '[:space:]')"
    [[ "$have" == "$cid" ]] ||
      die "$DATA_DIR belongs to cluster $have but $CLUSTER_ID_FILE says $cid; remove one of them (rm -rf $KAFKA_DIR/data $CLUSTER_ID_FILE wipes the broker's data)"
    return 0
  fi
  mkdir -p "$DATA_DIR"
  local -a scram=()
  if [[ "$1" == sasl ]]; then
    local user
    for user in $(scram_users); do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(user_password "$user")]")
    done
  fi
  say "formatting $DATA_DIR: kafka.tools.StorageTool format -t $cid -c $PROPS_FILE --ignore-formatted${scram[0]:+ with SCRAM users $(scram_users | tr '\n' ' ')}"
  local out
  if ! out="$("$JAVA" -Dlog4j.configuration="file:$LOG4J_PROPS" -cp "$LIBS_DIR/*" \
    kafka.tools.StorageTool format -t "$cid" -c "$PROPS_FILE" --ignore-formatted "${scram[@]}" 2>&1)"; then
    echo "$out" >&2
    die "formatting $DATA_DIR failed"
  fi
  say "  ${out//$'\n'/ }"
  [[ -f "$meta" ]] || die "StorageTool format ran but $meta is missing"
}

cmd_start() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    say "KAFKA_BROKERS=$KAFKA_BROKERS is set: using that external cluster; not starting a local broker"
    return 0
  fi
  require_java
  mkdir -p "$KAFKA_DIR"
  local formatted
  formatted="$(formatted_nodes)"
  # unset, it follows what is on disk; set, it must agree
  [[ -n "${STOCKMESH_KAFKA_NODES:-}" ]] || KAFKA_NODES="$NODES_HERE"
  if ((formatted > 0 && formatted != KAFKA_NODES)); then
    die "$KAFKA_DIR holds a $formatted-node cluster but STOCKMESH_KAFKA_NODES=$KAFKA_NODES; set it to $formatted, or use another STOCKMESH_HOME (kafka.sh stop && rm -rf $KAFKA_DIR/data $KAFKA_DIR/node-* $CLUSTER_ID_FILE wipes this one)"
  fi
  NODES_HERE="$KAFKA_NODES"
  if ((KAFKA_NODES == 1)); then
    use_node 1
    start_single
  else
    start_quorum
  fi
  hint_missing_principals
}

# Principals are made at format time only: a region named in STOCKMESH_REGIONS later has none, and
# its process would be refused. start does not add it (changing who may use the cluster is
# add-region's explicit job); it says how.
hint_missing_principals() {
  [[ -f "$CRED_FILE" ]] || return 0
  local r
  local -a missing=()
  for r in $(region_ids); do
    [[ -n "$(user_password "region-$r")" ]] || missing+=("$r")
  done
  ((${#missing[@]} == 0)) ||
    warn "STOCKMESH_REGIONS names region(s) without a principal in $CRED_FILE: ${missing[*]}; run: kafka.sh add-region ${missing[*]}"
}

# One node: reuses a broker that already answers on the port, whoever started it.
start_single() {
  local pid
  pid="$(broker_pid)"

  if port_open "$KAFKA_HOST" "$NODE_PORT"; then
    if [[ -n "$pid" ]]; then
      if wait_ready "$NODE_BROKER" 5 "$pid" quiet; then
        say "broker pid $pid (from $KAFKA_DIR) is already running and answering on $NODE_BROKER; nothing to do"
        return 0
      fi
      say "broker pid $pid (from $KAFKA_DIR) listens on $NODE_BROKER but does not answer yet; waiting for it"
      wait_started "$pid" "$(($(wc -l <"$BROKER_LOG" 2>/dev/null || echo 0) + 1))"
      return 0
    fi
    if wait_ready "$NODE_BROKER" 5 "" quiet; then
      say "a Kafka broker already answers on $NODE_BROKER (not started from $KAFKA_DIR); using it as it is"
      return 0
    fi
    die "port $NODE_PORT on $KAFKA_HOST is taken by something that does not answer Kafka metadata requests; free it or set KAFKA_PORT"
  fi
  if [[ -n "$pid" ]]; then
    say "broker pid $pid (from $KAFKA_DIR) is already starting; waiting for it"
    wait_started "$pid" 1
    return 0
  fi
  require_free_controller_port
  local mode
  mode="$(prepare_security)"
  launch_node "$mode"
  wait_started "$LAUNCHED_PID" "$LAUNCHED_FROM_LINE" "$LAUNCHED_AT"
  finish_security "$mode"
}

# Several nodes: starts each that is not running (all of them, or one killed by a fault test),
# then waits for each. A node alone cannot become ready (its controller needs a majority of the
# voters), so every node is launched before the first wait.
start_quorum() {
  local -a pids=() from=() at=()
  local n pid mode="" launched=0
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    pid="$(broker_pid)"
    if [[ -n "$pid" ]]; then
      say "$NODE_NAME pid $pid is already running on $NODE_BROKER"
      pids[n]="$pid" from[n]=1 at[n]="$(now_ms)"
      continue
    fi
    port_open "$KAFKA_HOST" "$NODE_PORT" &&
      die "port $NODE_BROKER of $NODE_NAME is taken by a process not started from $KAFKA_DIR; free it or set KAFKA_PORT"
    require_free_controller_port
    [[ -n "$mode" ]] || mode="$(prepare_security)"
    mkdir -p "$NODE_DIR"
    launch_node "$mode"
    pids[n]="$LAUNCHED_PID" from[n]="$LAUNCHED_FROM_LINE" at[n]="$LAUNCHED_AT"
    launched=$((launched + 1))
  done
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    wait_started "${pids[n]}" "${from[n]}" "${at[n]}"
  done
  # ACLs live in the metadata log the nodes replicate: a node restarted into a running cluster
  # gets them from the others, so only a cluster that was down entirely grants them again.
  if ((launched == NODES_HERE)); then
    finish_security "$mode"
  fi
  say "$NODES_HERE nodes ready: KAFKA_BROKERS=$LOCAL_BROKERS (replication factor $REPLICATION_FACTOR, min.insync.replicas $MIN_INSYNC)"
}

require_free_controller_port() {
  if port_open "$KAFKA_HOST" "$NODE_CONTROLLER_PORT"; then
    die "controller port $KAFKA_HOST:$NODE_CONTROLLER_PORT of $NODE_NAME is already in use (another broker?); free it or set KAFKA_CONTROLLER_PORT"
  fi
}

# Fetches the jars, writes the credentials of a new data dir; prints the security mode.
prepare_security() {
  cmd_fetch >&2
  local mode
  mode="$(security_mode)"
  if [[ "$mode" == sasl ]]; then
    [[ -f "$CRED_FILE" ]] || write_credentials >&2
    write_admin_client_properties
  else
    warn "the broker runs without authentication (plaintext): anyone who reaches $LOCAL_BROKERS may write every topic"
  fi
  echo "$mode"
}

finish_security() {
  if [[ "$1" == sasl ]]; then
    grant_acls
    say "SASL/SCRAM-SHA-512 with ACLs; the principals' passwords are in $CRED_FILE"
  fi
}

# Writes the current node's properties, formats its storage once and starts it in the
# background; sets LAUNCHED_PID, LAUNCHED_FROM_LINE (of its log) and LAUNCHED_AT (ms).
launch_node() {
  local mode="$1"
  [[ "$mode" != sasl ]] || PROBE_CREDENTIALS="$CRED_FILE"
  write_server_properties "$mode"
  ensure_formatted "$mode"
  rm -f "$PID_FILE"

  # keep the log from growing without bound across restarts
  if [[ -f "$BROKER_LOG" ]] && (($(stat -c %s "$BROKER_LOG") > 50 * 1024 * 1024)); then
    mv -f "$BROKER_LOG" "$BROKER_LOG.1"
  fi
  echo "===== $(date -u +%Y-%m-%dT%H:%M:%SZ) kafka.sh start: Kafka $KAFKA_VERSION $NODE_NAME on $NODE_BROKER =====" >>"$BROKER_LOG"
  LAUNCHED_FROM_LINE="$(wc -l <"$BROKER_LOG")"

  local -a jvm=("-Xms$KAFKA_HEAP_MIN" "-Xmx$KAFKA_HEAP_MAX"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$LOG4J_PROPS" "-Dstockmesh.kafka.log.level=$KAFKA_LOG_LEVEL"
    "-Dkafka.logs.dir=$NODE_DIR")
  local -a extra=()
  [[ -z "$KAFKA_JVM_OPTS" ]] || read -r -a extra <<<"$KAFKA_JVM_OPTS"

  say "starting $NODE_NAME: $JAVA ${jvm[*]} ${extra[*]} -cp '$LIBS_DIR/*' kafka.Kafka $PROPS_FILE  (log: $BROKER_LOG)"
  LAUNCHED_AT="$(now_ms)"
  # new session (setsid) so the terminal's Ctrl-C / hang-up does not reach the broker;
  # the inner shell writes its own pid and then becomes java (exec), so the pid file is java's pid.
  local -a launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  # shellcheck disable=SC2016 # $$, $0 and $@ are the inner shell's
  "${launcher[@]}" nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" "${jvm[@]}" "${extra[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS_FILE" \
    >>"$BROKER_LOG" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  LAUNCHED_PID="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$LAUNCHED_PID" ]] || {
    print_log_tail "$LAUNCHED_FROM_LINE"
    die "$NODE_NAME did not come up (no pid written to $PID_FILE)"
  }
  say "$NODE_NAME pid $LAUNCHED_PID"
}

wait_started() { # pid from_line [start_ms]  (of the current node)
  local pid="$1" from_line="$2" start="${3:-$(now_ms)}" rc=0
  wait_ready "$NODE_BROKER" "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
  case "$rc" in
    0)
      say "Kafka $KAFKA_VERSION $NODE_NAME ready on $NODE_BROKER (pid $pid), $(secs_since "$start")s"
      ;;
    3)
      rm -f "$PID_FILE"
      print_log_tail "$from_line"
      die "$NODE_NAME (pid $pid) exited during startup; see the log above ($BROKER_LOG)"
      ;;
    *)
      print_log_tail "$from_line"
      die "$NODE_NAME (pid $pid) is not ready after ${KAFKA_START_TIMEOUT}s; it is still running: kafka.sh stop, or raise KAFKA_START_TIMEOUT"
      ;;
  esac
}

# Every node at once: SIGTERM to all (a controlled shutdown each), then SIGKILL to whichever is
# still alive after $KAFKA_STOP_TIMEOUT s. Stopping them one by one would leave the last without
# a quorum, waiting for a controller that is gone.
cmd_stop() {
  local n pid start left
  local -a pids=() names=()
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    pid="$(broker_pid)"
    if [[ -z "$pid" ]]; then
      if [[ -f "$PID_FILE" ]]; then
        rm -f "$PID_FILE"
        say "$NODE_NAME not running (removed stale $PID_FILE)"
      else
        say "$NODE_NAME not running"
      fi
      if port_open "$KAFKA_HOST" "$NODE_PORT"; then
        warn "something still listens on $NODE_BROKER, not started from $KAFKA_DIR; leaving it alone"
      fi
      continue
    fi
    say "stopping $NODE_NAME pid $pid: SIGTERM (controlled shutdown), SIGKILL after ${KAFKA_STOP_TIMEOUT}s"
    kill -TERM "$pid" 2>/dev/null || true
    pids[n]="$pid" names[n]="$NODE_NAME"
  done
  ((${#pids[@]} > 0)) || return 0
  start="$(now_ms)"
  while :; do
    left=0
    for n in "${!pids[@]}"; do kill -0 "${pids[n]}" 2>/dev/null && left=$((left + 1)); done
    ((left > 0)) || break
    if (($(now_ms) - start >= KAFKA_STOP_TIMEOUT * 1000)); then
      for n in "${!pids[@]}"; do
        kill -0 "${pids[n]}" 2>/dev/null || continue
        warn "${names[n]} pid ${pids[n]} still alive after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "${pids[n]}" 2>/dev/null || true
      done
      local i
      for ((i = 0; i < 50; i++)); do
        left=0
        for n in "${!pids[@]}"; do kill -0 "${pids[n]}" 2>/dev/null && left=$((left + 1)); done
        ((left > 0)) || break
        sleep 0.1
      done
      ((left == 0)) || die "$left node(s) survived SIGKILL"
      break
    fi
    sleep 0.2
  done
  for n in "${!pids[@]}"; do
    use_node "$n"
    rm -f "$PID_FILE"
  done
  say "${#pids[@]} node(s) stopped in $(secs_since "$start")s"
}

cmd_status() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    if wait_ready "$KAFKA_BROKERS" 5 "" quiet; then
      echo "running: external cluster KAFKA_BROKERS=$KAFKA_BROKERS answers"
      return 0
    fi
    echo "not running: external cluster KAFKA_BROKERS=$KAFKA_BROKERS does not answer"
    return 3
  fi
  local n pid label running=0
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    pid="$(broker_pid)"
    label=""
    ((NODES_HERE == 1)) || label=" $NODE_NAME"
    if [[ -n "$pid" ]]; then
      local state="not answering yet" rss=""
      if port_open "$KAFKA_HOST" "$NODE_PORT" && wait_ready "$NODE_BROKER" 5 "$pid" quiet; then
        state="answering"
      fi
      rss="$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
      echo "running: Kafka $KAFKA_VERSION$label pid $pid on $NODE_BROKER, $state${rss:+, RSS $((rss / 1024)) MiB}; data $NODE_DIR"
      running=$((running + 1))
    elif port_open "$KAFKA_HOST" "$NODE_PORT"; then
      echo "not running ($NODE_NAME from $KAFKA_DIR), but something listens on $NODE_BROKER"
    else
      echo "not running$label"
    fi
  done
  ((NODES_HERE == 1)) || echo "$running of $NODES_HERE nodes running: KAFKA_BROKERS=$LOCAL_BROKERS"
  ((running == NODES_HERE)) || return 3
}

cmd_wait() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    wait_for "$KAFKA_BROKERS" ""
    return
  fi
  local n
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    wait_for "$NODE_BROKER" "$(broker_pid)"
  done
}

wait_for() { # brokers pid
  local brokers="$1" pid="$2" start rc=0
  start="$(now_ms)"
  say "waiting up to ${KAFKA_START_TIMEOUT}s for $brokers to answer a metadata request"
  wait_ready "$brokers" "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
  case "$rc" in
    0) say "$brokers ready after $(secs_since "$start")s" ;;
    3) die "broker pid $pid exited while waiting; see $BROKER_LOG" ;;
    *) die "$brokers not ready after ${KAFKA_START_TIMEOUT}s" ;;
  esac
}

cmd_logs() {
  local n
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    [[ -f "$BROKER_LOG" ]] || die "no log yet at $BROKER_LOG"
    ((NODES_HERE == 1)) || echo "========== $NODE_NAME: $BROKER_LOG"
    tail -n "${1:-100}" "$BROKER_LOG"
  done
}

# The Raft metadata quorum as Kafka's own tool sees it: the leader (the active controller), the
# voters and how far each is behind. Fault tests read LeaderId from it.
cmd_quorum() {
  require_java
  libs_current || die "the Kafka jars are not fetched (kafka.sh fetch)"
  local -a auth=()
  [[ ! -f "$CRED_FILE" || -n "${KAFKA_BROKERS:-}" ]] || auth=(--command-config "$ADMIN_CLIENT_PROPS")
  local brokers="${KAFKA_BROKERS:-$LOCAL_BROKERS}" what out
  for what in --status --replication; do
    if ! out="$(timeout 60 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 \
      -Dlog4j.configuration="file:$LOG4J_PROPS" -Dstockmesh.kafka.log.level=ERROR \
      -cp "$LIBS_DIR/*" org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$brokers" "${auth[@]}" describe "$what" 2>&1)"; then
      echo "$out" >&2
      die "MetadataQuorumCommand describe $what failed against $brokers"
    fi
    # the tool's admin client logs at INFO whatever log4j says; keep only its answer
    grep -v '^\[[0-9-]* [0-9:,]*\] ' <<<"$out" || true
  done
}

# Gives regions that were not in STOCKMESH_REGIONS when the data dir was formatted a principal on
# the running cluster: the SCRAM user region-<id> (Kafka's own ConfigCommand, as admin), the ACLs
# a region gets (acls.mjs --regions-only) and the password in credentials.json. The credentials
# file is written last, so a run that fails half-way leaves the region out of it and the next run
# makes the user again with a new password (an --add-config of a SCRAM user that exists replaces
# its credential); a region already in the file is left alone.
# Exit codes: 0 done (or nothing to do), 1 failed, 2 KAFKA_BROKERS names an external cluster, 64 bad arguments.
ADD_REGION_SECRET_FILE=""
cmd_add_region() {
  if (($# == 0)); then
    echo "kafka.sh: add-region needs at least one region id: kafka.sh add-region <id> [<id> ...]" >&2
    exit 64
  fi
  local id
  for id in "$@"; do
    if ! is_region_id "$id"; then
      echo "kafka.sh: add-region: '$id' is not a region id (lowercase letters and digits in words joined by '-', starting with a letter, e.g. sa-east)" >&2
      exit 64
    fi
  done
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    echo "kafka.sh: add-region: KAFKA_BROKERS=$KAFKA_BROKERS is set, an external cluster: add-region only adds principals to the local cluster kafka.sh formed in $KAFKA_DIR (unset KAFKA_BROKERS for that one; an external cluster's principals are its operator's)" >&2
    exit 2
  fi
  if [[ ! -f "$CRED_FILE" ]]; then
    if (($(formatted_nodes) > 0)); then
      say "$KAFKA_DIR was formatted without SASL users (plaintext): every client connects without a principal; nothing to do for $*"
      return 0
    fi
    if [[ "$KAFKA_SECURITY" == plaintext ]]; then
      say "KAFKA_SECURITY=plaintext: a plaintext broker has no principals; nothing to do for $*"
      return 0
    fi
    die "no broker is formatted in $KAFKA_DIR yet: kafka.sh start makes one, with a principal for each region of STOCKMESH_REGIONS (add $* there)"
  fi

  take_lock
  local -a new=()
  for id in "$@"; do
    if [[ -n "$(user_password "region-$id")" ]]; then
      say "region-$id already has a principal in $CRED_FILE; leaving it alone"
    elif [[ " ${new[*]} " != *" $id "* ]]; then
      new+=("$id")
    fi
  done
  if ((${#new[@]} == 0)); then
    say "nothing to add"
    return 0
  fi
  # credentials.json is written anew from the users read here, so every one of them must be read:
  # a file in another layout than kafka.sh's (one "user": "password" a line) is left as it is.
  local line
  local -a users=()
  mapfile -t users < <(sed -n 's/^    "\([^"]*\)": "\([^"]*\)",\{0,1\}$/\1\t\2/p' "$CRED_FILE")
  if ((${#users[@]} != $(grep -c '": "' "$CRED_FILE") - 1)) || [[ -z "$(user_password admin)" ]]; then
    die "$CRED_FILE is not in the layout kafka.sh writes (one \"user\": \"password\" a line, admin among them); not changing it"
  fi
  # Every password before anything changes: a bad KAFKA_REGION_PASSWORD_<REGION> stops the run here.
  local -a passwords=()
  for id in "${new[@]}"; do passwords+=("$(new_password "region-$id")"); done

  require_java
  libs_current || die "the Kafka jars in $LIBS_DIR are missing or stale (kafka.sh fetch; a running broker keeps the jars it started with)"
  command -v node >/dev/null 2>&1 || die "node is needed to grant the ACLs ($ACLS_MJS)"
  # The running nodes of this data dir. SCRAM users and ACLs live in the replicated metadata log:
  # a node that is down gets them from the others when it starts.
  local n
  local -a up=()
  for ((n = 1; n <= NODES_HERE; n++)); do
    use_node "$n"
    [[ -z "$(broker_pid)" ]] || up+=("$NODE_BROKER")
  done
  ((${#up[@]} > 0)) || die "no node of $KAFKA_DIR is running: add-region changes the running cluster (kafka.sh start first)"
  ((${#up[@]} == NODES_HERE)) ||
    warn "${#up[@]} of $NODES_HERE nodes run (${up[*]}); the others get the new principals from the metadata log when they start"
  local bootstrap
  bootstrap="$(IFS=,; echo "${up[*]}")"
  wait_ready "${up[0]}" 15 "" quiet || die "${up[0]} does not answer a metadata request (kafka.sh status, kafka.sh logs)"
  write_admin_client_properties

  # ConfigCommand takes the password from a properties file, not from --add-config, whose value
  # would be on its command line, readable by any local user in ps. The file is mode 0600 in
  # $KAFKA_DIR and removed on every exit. Its value has no brackets ('SCRAM-SHA-512=password=...'):
  # unlike --add-config, --add-config-file does not strip them and refuses '[password=...]'.
  ADD_REGION_SECRET_FILE="$(mktemp "$KAFKA_DIR/.add-region.XXXXXX")"
  trap 'rm -f "$ADD_REGION_SECRET_FILE"' EXIT
  local i out
  local -a added=()
  for i in "${!new[@]}"; do
    id="${new[i]}"
    printf 'SCRAM-SHA-512=password=%s\n' "${passwords[i]}" >"$ADD_REGION_SECRET_FILE"
    say "region-$id: SCRAM-SHA-512 user on $bootstrap: kafka.admin.ConfigCommand --alter --add-config-file <password file> --entity-type users --entity-name region-$id"
    if ! out="$(timeout 60 "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 \
      -Dlog4j.configuration="file:$LOG4J_PROPS" -Dstockmesh.kafka.log.level=ERROR \
      -cp "$LIBS_DIR/*" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --command-config "$ADMIN_CLIENT_PROPS" \
      --alter --add-config-file "$ADD_REGION_SECRET_FILE" --entity-type users --entity-name "region-$id" 2>&1)"; then
      echo "$out" >&2
      die "ConfigCommand could not make the SCRAM user region-$id (nothing written to $CRED_FILE; run add-region again)"
    fi
    : >"$ADD_REGION_SECRET_FILE"
    # the tool's admin client logs at INFO whatever log4j says; keep only its answer
    say "  $(grep -v '^\[[0-9-]* [0-9:,]*\] ' <<<"$out" | tr '\n' ' ')"
    added+=("region-$id" "${passwords[i]}")
  done
  rm -f "$ADD_REGION_SECRET_FILE"

  local regions
  regions="$(IFS=,; echo "${new[*]}")"
  say "granting the ACLs of a region: node $ACLS_MJS --brokers $bootstrap --regions $regions --regions-only${KAFKA_ACL_TOPIC_PREFIX:+ --topic-prefix $KAFKA_ACL_TOPIC_PREFIX}"
  node "$ACLS_MJS" --brokers "$bootstrap" --credentials "$CRED_FILE" --regions "$regions" --regions-only \
    --topic-prefix "$KAFKA_ACL_TOPIC_PREFIX" ||
    die "could not grant the ACLs of ${new[*]} (see above; nothing written to $CRED_FILE; run add-region again)"

  # The users the file has, in its order, with the new regions after the last region (before external).
  local user
  local -a pairs=()
  for line in "${users[@]}"; do
    user="${line%%$'\t'*}"
    if [[ "$user" == external && ${#added[@]} -gt 0 ]]; then
      pairs+=("${added[@]}")
      added=()
    fi
    pairs+=("$user" "${line#*$'\t'}")
  done
  pairs+=("${added[@]}")
  write_credentials_file "${pairs[@]}"
  say "added $(printf 'region-%s ' "${new[@]}")to $CRED_FILE (mode 0600), where npm start finds a region's password"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  fetch) take_lock && cmd_fetch ;;
  start) [[ -n "${KAFKA_BROKERS:-}" ]] || take_lock; cmd_start ;;
  stop) take_lock && cmd_stop ;;
  status) cmd_status ;;
  wait) cmd_wait ;;
  logs) cmd_logs "${2:-100}" ;;
  quorum) cmd_quorum ;;
  add-region) shift; cmd_add_region "$@" ;;
  brokers) echo "$LOCAL_BROKERS $REPLICATION_FACTOR" ;;
  -h | --help | help) usage ;;
  "") usage >&2; exit 64 ;;
  *) echo "kafka.sh: unknown command '$1'" >&2; usage >&2; exit 64 ;;
esac
