#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: combined broker+controller, no ZooKeeper) for
# stockmesh development and tests, run natively on Java 17 from jars that Maven resolves
# from Maven Central (infra/kafka/pom.xml). No Docker, no tarball download.
#
#   infra/kafka/kafka.sh fetch    resolve the broker's jars into $STOCKMESH_HOME/kafka/libs (skipped when current)
#   infra/kafka/kafka.sh start    fetch if needed, format storage once, start in the background, wait until ready
#   infra/kafka/kafka.sh stop     SIGTERM (controlled shutdown), SIGKILL after $KAFKA_STOP_TIMEOUT s
#   infra/kafka/kafka.sh status   "running ..." (exit 0) or "not running" (exit 3)
#   infra/kafka/kafka.sh wait     wait until the broker answers a metadata request
#   infra/kafka/kafka.sh logs [N] last N (100) lines of the broker log
#
# Environment:
#   STOCKMESH_HOME          state root (default <repo>/.stockmesh); the broker lives in $STOCKMESH_HOME/kafka:
#                           libs/ (jars), data/ (log.dirs, KRaft metadata), server.properties,
#                           cluster.id, broker.pid, broker.log, credentials.json (SASL passwords, mode 0600)
#   KAFKA_SECURITY          sasl (default for a new data dir) | plaintext. With sasl the broker accepts only
#                           SASL/SCRAM-SHA-512 clients and enforces ACLs (acls.mjs): users admin (super
#                           user), region-<id> per region, external. A data dir formatted before keeps
#                           the mode it was formatted with (credentials.json present = sasl).
#   STOCKMESH_REGIONS       regions that get a principal at format time (default us-east,eu-west,ap-south)
#   KAFKA_ADMIN_PASSWORD, KAFKA_EXTERNAL_PASSWORD, KAFKA_REGION_PASSWORD_<REGION> (e.g. ..._US_EAST)
#                           passwords for a new data dir (16-128 of A-Z a-z 0-9 . _ ~ -); random when unset
#   KAFKA_ACL_TOPIC_PREFIX  regions get the topics and groups starting with it (default: every topic and group)
#   KAFKA_BROKERS           if set, an external cluster is used: start does nothing, wait/status probe it
#   KAFKA_PORT              client listener, 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT   KRaft controller listener, 127.0.0.1 (default 9093)
#   KAFKA_HEAP_MAX          -Xmx of the broker (default 512m)
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
DATA_DIR="$KAFKA_DIR/data"
PROPS_FILE="$KAFKA_DIR/server.properties"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
PID_FILE="$KAFKA_DIR/broker.pid"
BROKER_LOG="$KAFKA_DIR/broker.log"
STAMP_FILE="$LIBS_DIR/.stockmesh-kafka-stamp"
CRED_FILE="$KAFKA_DIR/credentials.json"
ADMIN_CLIENT_PROPS="$KAFKA_DIR/admin-client.properties"
ACLS_MJS="$SCRIPT_DIR/acls.mjs"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_MAX="${KAFKA_HEAP_MAX:-512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-WARN}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_READY_PROBE="${KAFKA_READY_PROBE:-auto}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
MVN="${MVN:-mvn}"
LOCAL_BROKERS="$KAFKA_HOST:$KAFKA_PORT"
KAFKA_SECURITY="${KAFKA_SECURITY:-}"
STOCKMESH_REGIONS="${STOCKMESH_REGIONS:-us-east,eu-west,ap-south}"
KAFKA_ACL_TOPIC_PREFIX="${KAFKA_ACL_TOPIC_PREFIX:-}"
# The credentials the readiness probes authenticate with: the local broker's admin, once it has one.
PROBE_CREDENTIALS=""
[[ -n "${KAFKA_BROKERS:-}" || ! -f "$CRED_FILE" ]] || PROBE_CREDENTIALS="$CRED_FILE"

say() { echo "kafka.sh: $*"; }
warn() { echo "kafka.sh: warning: $*" >&2; }
die() {
  echo "kafka.sh: ERROR: $*" >&2
  exit 1
}

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
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT are both $KAFKA_PORT"

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

region_ids() {
  local r
  for r in ${STOCKMESH_REGIONS//,/ }; do
    [[ "$r" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]] || die "STOCKMESH_REGIONS: '$r' is not a region id"
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
  local tmp="$CRED_FILE.tmp.$$" user sep
  local -a users
  mapfile -t users < <(scram_users)
  (
    umask 077
    {
      echo '{'
      echo '  "mechanism": "scram-sha-512",'
      echo '  "users": {'
      for user in "${users[@]}"; do
        sep=,
        [[ "$user" != "${users[-1]}" ]] || sep=
        echo "    \"$user\": \"$(new_password "$user")\"$sep"
      done
      echo '  }'
      echo '}'
    } >"$tmp"
  )
  mv "$tmp" "$CRED_FILE"
  say "wrote the passwords of ${users[*]} to $CRED_FILE (mode 0600)"
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
# Single-node KRaft: one process is both broker and controller, static quorum, loopback only.
# Plaintext, no authentication (KAFKA_SECURITY=plaintext, or a data dir formatted before SASL).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
$(common_server_properties)
EOF
  mv "$PROPS_FILE.tmp" "$PROPS_FILE"
}

# SASL/SCRAM-SHA-512 on the client listener, ACLs enforced. The controller listener uses PLAIN
# with the admin's password (SCRAM credentials live in the metadata the controller serves, so
# the controller cannot use them itself); admin is the only super user, and nobody may connect
# to either listener without a password.
write_sasl_server_properties() {
  local password
  password="$(user_password admin)"
  [[ -n "$password" ]] || die "$CRED_FILE has no admin password"
  (
    umask 077
    cat >"$PROPS_FILE.tmp" <<EOF
# Written by infra/kafka/kafka.sh on every start; edits here are overwritten. Holds the admin password.
# Single-node KRaft: one process is both broker and controller, static quorum, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$DATA_DIR

sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$password" user_admin="$password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
$(common_server_properties)
EOF
  )
  mv "$PROPS_FILE.tmp" "$PROPS_FILE"
}

common_server_properties() {
  cat <<EOF

# one broker: internal topics with replication factor 1 and few partitions
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
# stockmesh creates its topics itself
auto.create.topics.enable=false
# the first consumer group join must not wait the default 3 s
group.initial.rebalance.delay.ms=0

# dev retention: a day, at most 1 GiB per partition
log.retention.hours=24
log.retention.bytes=1073741824
log.retention.check.interval.ms=300000

# after an unclean stop (kill -9) the new incarnation can register only once the old one's
# session expired: default 9 s + heartbeats; broker and controller share this process, so shorter is safe
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000

# small machine (2 cores): fewer threads, smaller log-cleaner buffer (default 128 MiB of heap)
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
EOF
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
  local pid
  pid="$(broker_pid)"

  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if [[ -n "$pid" ]]; then
      if wait_ready "$LOCAL_BROKERS" 5 "$pid" quiet; then
        say "broker pid $pid (from $KAFKA_DIR) is already running and answering on $LOCAL_BROKERS; nothing to do"
        return 0
      fi
      say "broker pid $pid (from $KAFKA_DIR) listens on $LOCAL_BROKERS but does not answer yet; waiting for it"
      wait_started "$pid" "$(($(wc -l <"$BROKER_LOG" 2>/dev/null || echo 0) + 1))"
      return 0
    fi
    if wait_ready "$LOCAL_BROKERS" 5 "" quiet; then
      say "a Kafka broker already answers on $LOCAL_BROKERS (not started from $KAFKA_DIR); using it as it is"
      return 0
    fi
    die "port $KAFKA_PORT on $KAFKA_HOST is taken by something that does not answer Kafka metadata requests; free it or set KAFKA_PORT"
  fi
  if [[ -n "$pid" ]]; then
    say "broker pid $pid (from $KAFKA_DIR) is already starting; waiting for it"
    wait_started "$pid" 1
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is already in use (another broker?); free it or set KAFKA_CONTROLLER_PORT"
  fi

  cmd_fetch
  local mode
  mode="$(security_mode)"
  if [[ "$mode" == sasl ]]; then
    [[ -f "$CRED_FILE" ]] || write_credentials
    write_admin_client_properties
    PROBE_CREDENTIALS="$CRED_FILE"
  else
    warn "the broker runs without authentication (plaintext): anyone who reaches $LOCAL_BROKERS may write every topic"
  fi
  write_server_properties "$mode"
  ensure_formatted "$mode"
  rm -f "$PID_FILE"

  # keep the log from growing without bound across restarts
  if [[ -f "$BROKER_LOG" ]] && (($(stat -c %s "$BROKER_LOG") > 50 * 1024 * 1024)); then
    mv -f "$BROKER_LOG" "$BROKER_LOG.1"
  fi
  echo "===== $(date -u +%Y-%m-%dT%H:%M:%SZ) kafka.sh start: Kafka $KAFKA_VERSION on $LOCAL_BROKERS =====" >>"$BROKER_LOG"
  local from_line
  from_line="$(wc -l <"$BROKER_LOG")"

  local -a jvm=(-Xms256m "-Xmx$KAFKA_HEAP_MAX"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$LOG4J_PROPS" "-Dstockmesh.kafka.log.level=$KAFKA_LOG_LEVEL"
    "-Dkafka.logs.dir=$KAFKA_DIR")
  local -a extra=()
  [[ -z "$KAFKA_JVM_OPTS" ]] || read -r -a extra <<<"$KAFKA_JVM_OPTS"

  say "starting: $JAVA ${jvm[*]} ${extra[*]} -cp '$LIBS_DIR/*' kafka.Kafka $PROPS_FILE  (log: $BROKER_LOG)"
  local start
  start="$(now_ms)"
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
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || {
    print_log_tail "$from_line"
    die "the broker did not come up (no pid written to $PID_FILE)"
  }
  say "broker pid $pid"
  wait_started "$pid" "$from_line" "$start"
  if [[ "$mode" == sasl ]]; then
    grant_acls
    say "SASL/SCRAM-SHA-512 with ACLs; the principals' passwords are in $CRED_FILE"
  fi
}

wait_started() { # pid from_line [start_ms]
  local pid="$1" from_line="$2" start="${3:-$(now_ms)}" rc=0
  wait_ready "$LOCAL_BROKERS" "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
  case "$rc" in
    0)
      say "Kafka $KAFKA_VERSION ready on $LOCAL_BROKERS (pid $pid), $(secs_since "$start")s"
      ;;
    3)
      rm -f "$PID_FILE"
      print_log_tail "$from_line"
      die "the broker (pid $pid) exited during startup; see the log above ($BROKER_LOG)"
      ;;
    *)
      print_log_tail "$from_line"
      die "the broker (pid $pid) is not ready after ${KAFKA_START_TIMEOUT}s; it is still running: kafka.sh stop, or raise KAFKA_START_TIMEOUT"
      ;;
  esac
}

cmd_stop() {
  local pid
  pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then
    if [[ -f "$PID_FILE" ]]; then
      rm -f "$PID_FILE"
      say "broker not running (removed stale $PID_FILE)"
    else
      say "broker not running"
    fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      warn "something still listens on $LOCAL_BROKERS, not started from $KAFKA_DIR; leaving it alone"
    fi
    return 0
  fi
  say "stopping broker pid $pid: SIGTERM (controlled shutdown), SIGKILL after ${KAFKA_STOP_TIMEOUT}s"
  local start
  start="$(now_ms)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (($(now_ms) - start >= KAFKA_STOP_TIMEOUT * 1000)); then
      warn "broker pid $pid still alive after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local i
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && die "broker pid $pid survived SIGKILL"
      rm -f "$PID_FILE"
      say "broker killed"
      return 0
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  say "broker stopped in $(secs_since "$start")s"
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
  local pid
  pid="$(broker_pid)"
  if [[ -n "$pid" ]]; then
    local state="not answering yet" rss=""
    if port_open "$KAFKA_HOST" "$KAFKA_PORT" && wait_ready "$LOCAL_BROKERS" 5 "$pid" quiet; then
      state="answering"
    fi
    rss="$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
    echo "running: Kafka $KAFKA_VERSION pid $pid on $LOCAL_BROKERS, $state${rss:+, RSS $((rss / 1024)) MiB}; data $KAFKA_DIR"
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    echo "not running (from $KAFKA_DIR), but something listens on $LOCAL_BROKERS"
  else
    echo "not running"
  fi
  return 3
}

cmd_wait() {
  local brokers="${KAFKA_BROKERS:-$LOCAL_BROKERS}" pid="" start rc=0
  [[ -n "${KAFKA_BROKERS:-}" ]] || pid="$(broker_pid)"
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
  [[ -f "$BROKER_LOG" ]] || die "no broker log yet at $BROKER_LOG"
  tail -n "${1:-100}" "$BROKER_LOG"
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
  -h | --help | help) usage ;;
  "") usage >&2; exit 64 ;;
  *) echo "kafka.sh: unknown command '$1'" >&2; usage >&2; exit 64 ;;
esac
