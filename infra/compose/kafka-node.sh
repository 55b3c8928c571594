#!/usr/bin/env bash
# One node (broker + KRaft controller) of docker-compose's Kafka cluster, secured as
# infra/kafka/kafka.sh secures the local broker: clients and brokers authenticate with
# SASL/SCRAM-SHA-512, the controllers with SASL/PLAIN as admin, and StandardAuthorizer enforces the
# ACLs that infra/kafka/acls.mjs grants (the kafka-acls service). It replaces the apache/kafka
# image's own start script, which cannot create SCRAM users at format time.
#
#   kafka-node.sh [start]   write server.properties, format the storage once (creating every SCRAM
#                           user), then exec the broker in the foreground
#   kafka-node.sh health    exit 0 when the node answers an authenticated metadata request
#                           (docker-compose's healthcheck)
#
# It runs the JVM from the jars itself (no /opt/kafka/bin scripts), so it also runs outside the
# image against the Maven jars kafka.sh fetches: infra/compose/check-kafka-node.sh does that.
#
# Environment (defaults are the apache/kafka image's and docker-compose's):
#   KAFKA_NODE_ID                   this node's id (required)
#   KAFKA_CONTROLLER_QUORUM_VOTERS  id@host:port of every controller (required)
#   CLUSTER_ID                      KRaft cluster id, the same on every node (required)
#   KAFKA_ADVERTISED_HOST           the name clients reach this node by (default: hostname)
#   KAFKA_LISTEN_HOST               address both listeners bind (default 0.0.0.0)
#   KAFKA_CLIENT_PORT               SASL_PLAINTEXT client and inter-broker listener (default 9092)
#   KAFKA_CONTROLLER_PORT           controller listener, SASL/PLAIN (default 9093)
#   KAFKA_PASSWORDS_DIR             <principal>/password for each principal (default /etc/stockmesh/kafka),
#                                   made by make-kafka-passwords (dist/infra/compose/make-kafka-passwords.js)
#   STOCKMESH_REGIONS               regions whose principal region-<id> is created (default us-east,eu-west,ap-south);
#                                   admin and external always are
#   KAFKA_DATA_DIR                  log.dirs (default /var/lib/kafka/data)
#   KAFKA_CONFIG_DIR                where server.properties and client.properties go, mode 0600, rewritten
#                                   on each start (default /tmp/stockmesh-kafka)
#   KAFKA_REPLICATION_FACTOR        of every topic, internal ones too (default 3); min.insync.replicas min(2, it)
#   KAFKA_HOME                      (default /opt/kafka); KAFKA_LIBS: the jars (default $KAFKA_HOME/libs)
#   KAFKA_LOG4J                     log4j 1.x properties of the broker (default $KAFKA_HOME/config/log4j.properties)
#   KAFKA_TOOLS_LOG4J               ... of the health probe (default $KAFKA_HOME/config/tools-log4j.properties)
#   KAFKA_HEAP_OPTS                 (default -Xms128m -Xmx384m); KAFKA_JVM_OPTS: more JVM options (word-split)
#   JAVA_HOME                       which java (default: java on the PATH)
set -euo pipefail

say() { echo "kafka-node: $*"; }
warn() { echo "kafka-node: warning: $*" >&2; }
die() {
  echo "kafka-node: ERROR: $*" >&2
  exit 1
}

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
KAFKA_LIBS="${KAFKA_LIBS:-$KAFKA_HOME/libs}"
KAFKA_LOG4J="${KAFKA_LOG4J:-$KAFKA_HOME/config/log4j.properties}"
KAFKA_TOOLS_LOG4J="${KAFKA_TOOLS_LOG4J:-$KAFKA_HOME/config/tools-log4j.properties}"
KAFKA_LISTEN_HOST="${KAFKA_LISTEN_HOST:-0.0.0.0}"
KAFKA_ADVERTISED_HOST="${KAFKA_ADVERTISED_HOST:-$(hostname)}"
KAFKA_CLIENT_PORT="${KAFKA_CLIENT_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PASSWORDS_DIR="${KAFKA_PASSWORDS_DIR:-/etc/stockmesh/kafka}"
STOCKMESH_REGIONS="${STOCKMESH_REGIONS:-us-east,eu-west,ap-south}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-/var/lib/kafka/data}"
KAFKA_CONFIG_DIR="${KAFKA_CONFIG_DIR:-/tmp/stockmesh-kafka}"
KAFKA_REPLICATION_FACTOR="${KAFKA_REPLICATION_FACTOR:-3}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx384m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
PROPS_FILE="$KAFKA_CONFIG_DIR/server.properties"
CLIENT_PROPS="$KAFKA_CONFIG_DIR/client.properties"
# sha256 of each SCRAM user's password as the storage was formatted with it (not the password)
SCRAM_RECORD="$KAFKA_DATA_DIR/stockmesh-scram-users"

[[ "$KAFKA_CLIENT_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_CLIENT_PORT must be a port number, got '$KAFKA_CLIENT_PORT'"
[[ "$KAFKA_CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_CONTROLLER_PORT must be a port number, got '$KAFKA_CONTROLLER_PORT'"
[[ "$KAFKA_REPLICATION_FACTOR" =~ ^[1-9]$ ]] || die "KAFKA_REPLICATION_FACTOR must be 1-9, got '$KAFKA_REPLICATION_FACTOR'"
MIN_INSYNC=$((KAFKA_REPLICATION_FACTOR < 2 ? KAFKA_REPLICATION_FACTOR : 2))
# the voters are the nodes: every node is a controller
KAFKA_NODES="$(tr ',' '\n' <<<"${KAFKA_CONTROLLER_QUORUM_VOTERS:-}" | grep -c . || true)"

# sasl_server_properties and common_server_properties, shared with infra/kafka/kafka.sh: next to
# this script in the container (docker-compose mounts both), in infra/kafka/ in the repository.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVER_PROPERTIES_SH="$SCRIPT_DIR/server-properties.sh"
[[ -f "$SERVER_PROPERTIES_SH" ]] || SERVER_PROPERTIES_SH="$SCRIPT_DIR/../kafka/server-properties.sh"
[[ -f "$SERVER_PROPERTIES_SH" ]] || die "server-properties.sh is neither next to $0 nor in ../kafka/"
# shellcheck source=../kafka/server-properties.sh
source "$SERVER_PROPERTIES_SH"

# admin, region-<id> for each region, external: the users of kafka.sh's scram_users
scram_users() {
  echo admin
  local r
  for r in ${STOCKMESH_REGIONS//,/ }; do
    [[ "$r" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]] || die "STOCKMESH_REGIONS: '$r' is not a region id"
    echo "region-$r"
  done
  echo external
}

# The password of a principal, checked: it goes into JAAS and --add-scram values unquoted.
password_of() {
  local file="$KAFKA_PASSWORDS_DIR/$1/password" password
  [[ -r "$file" ]] || die "cannot read $file as uid $(id -u): the make-kafka-passwords step makes it (docker compose up runs it first) and must hand it to this uid"
  password="$(cat "$file")"
  [[ "$password" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] || die "$file must hold 16-128 characters of A-Z a-z 0-9 . _ ~ -"
  echo "$password"
}

# The admin's SASL settings for a JVM client (the health probe), mode 0600.
write_client_properties() {
  (
    umask 077
    mkdir -p "$KAFKA_CONFIG_DIR"
    cat >"$CLIENT_PROPS.tmp" <<EOF
# Written by infra/compose/kafka-node.sh on every start. Holds the admin password.
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$1";
EOF
  )
  mv "$CLIENT_PROPS.tmp" "$CLIENT_PROPS"
}

# What kafka.sh writes for its nodes (the settings of server-properties.sh), for a node reached by
# its host name on a network of its own. That the controller listener too needs the admin's
# password matters more here than on kafka.sh's loopback: anyone on the compose network reaches it.
write_server_properties() {
  local password="$1"
  (
    umask 077
    mkdir -p "$KAFKA_CONFIG_DIR"
    cat >"$PROPS_FILE.tmp" <<EOF
# Written by infra/compose/kafka-node.sh on every start; edits here are overwritten. Holds the admin password.
$(sasl_server_properties "$KAFKA_NODE_ID" "$KAFKA_CONTROLLER_QUORUM_VOTERS" "$KAFKA_LISTEN_HOST:$KAFKA_CLIENT_PORT" \
  "$KAFKA_LISTEN_HOST:$KAFKA_CONTROLLER_PORT" "$KAFKA_ADVERTISED_HOST:$KAFKA_CLIENT_PORT" "$KAFKA_DATA_DIR" "$password")
$(common_server_properties "$KAFKA_NODES" "$KAFKA_REPLICATION_FACTOR" "$MIN_INSYNC")
EOF
  )
  mv "$PROPS_FILE.tmp" "$PROPS_FILE"
}

# Formats the storage once, creating every SCRAM user (KIP-900: on a KRaft cluster they can be made
# before the first start only this way). A formatted storage is kept: its users keep the passwords
# they were made with, so a password file that changed since is reported (its principal will be refused).
ensure_formatted() {
  local meta="$KAFKA_DATA_DIR/meta.properties" user password
  local -a users
  mapfile -t users < <(scram_users)
  if [[ -f "$meta" ]]; then
    local have
    have="$(sed -n 's/^cluster\.id=//p' "$meta" | tr -d '[:space:]')"
    [[ "$have" == "$CLUSTER_ID" ]] ||
      die "$KAFKA_DATA_DIR belongs to cluster $have, not CLUSTER_ID=$CLUSTER_ID (docker compose down -v wipes every volume)"
    # Storage from before the cluster was secured (docker-compose ran Kafka without SASL) has no
    # SCRAM users, and no password would ever be accepted.
    [[ -f "$SCRAM_RECORD" ]] ||
      die "$KAFKA_DATA_DIR was formatted without SCRAM users (by a docker-compose.yml from before Kafka had SASL?): remove the Kafka volumes (docker compose down, then docker volume rm of the kafka-N-data volumes; down -v removes every volume) and start again"
    for user in "${users[@]}"; do
      password="$(password_of "$user")"
      grep -qxF "$user $(printf %s "$password" | sha256sum | cut -d' ' -f1)" "$SCRAM_RECORD" 2>/dev/null ||
        warn "the password of $user is not the one its SCRAM user was made with at format time: the broker will refuse $user (wipe the Kafka volumes, or set the password with kafka.admin.ConfigCommand)"
    done
    say "storage in $KAFKA_DATA_DIR already formatted for cluster $CLUSTER_ID"
    return 0
  fi
  mkdir -p "$KAFKA_DATA_DIR"
  local -a scram=()
  local record=""
  for user in "${users[@]}"; do
    password="$(password_of "$user")"
    scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
    record+="$user $(printf %s "$password" | sha256sum | cut -d' ' -f1)"$'\n'
  done
  say "formatting $KAFKA_DATA_DIR for cluster $CLUSTER_ID with SCRAM users ${users[*]}"
  local out
  if ! out="$("$JAVA" -Xmx256m -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIBS/*" \
    kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS_FILE" "${scram[@]}" 2>&1)"; then
    echo "$out" >&2
    die "formatting $KAFKA_DATA_DIR failed"
  fi
  say "  ${out//$'\n'/ }"
  printf %s "$record" >"$SCRAM_RECORD"
}

cmd_start() {
  [[ "${KAFKA_NODE_ID:-}" =~ ^[0-9]+$ ]] || die "KAFKA_NODE_ID must be a node id, got '${KAFKA_NODE_ID:-}'"
  [[ -n "${KAFKA_CONTROLLER_QUORUM_VOTERS:-}" ]] || die "KAFKA_CONTROLLER_QUORUM_VOTERS is required (id@host:port,...)"
  [[ "${CLUSTER_ID:-}" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "CLUSTER_ID must be a KRaft cluster id (22 characters of base64url), got '${CLUSTER_ID:-}'"
  compgen -G "$KAFKA_LIBS/kafka-clients-*.jar" >/dev/null || die "no Kafka jars in $KAFKA_LIBS (set KAFKA_HOME or KAFKA_LIBS)"
  local admin
  admin="$(password_of admin)"
  write_server_properties "$admin"
  write_client_properties "$admin"
  ensure_formatted
  local -a heap extra
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a extra <<<"$KAFKA_JVM_OPTS"
  say "starting node $KAFKA_NODE_ID: SASL_PLAINTEXT://$KAFKA_ADVERTISED_HOST:$KAFKA_CLIENT_PORT (SCRAM-SHA-512), controller :$KAFKA_CONTROLLER_PORT (PLAIN), ACLs enforced"
  exec "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_LOG4J" "${extra[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$PROPS_FILE"
}

# Metadata then ApiVersions, authenticated as admin: a node that answers it has its client
# listener up, SCRAM working and a controller quorum to get metadata from.
cmd_health() {
  [[ -r "$CLIENT_PROPS" ]] || die "no $CLIENT_PROPS yet: the node has not started"
  local out
  if ! out="$("$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" \
    -Dstockmesh.kafka.log.level=ERROR -cp "$KAFKA_LIBS/*" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_CLIENT_PORT" --command-config "$CLIENT_PROPS" 2>&1)"; then
    grep -m1 -E 'Exception|Error' <<<"$out" >&2 || tail -n 1 <<<"$out" >&2
    exit 1
  fi
}

case "${1:-start}" in
  start) cmd_start ;;
  health) cmd_health ;;
  *)
    echo "usage: kafka-node.sh [start|health]" >&2
    exit 64
    ;;
esac
