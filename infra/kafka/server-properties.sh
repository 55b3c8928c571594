# shellcheck shell=bash
# The broker settings that infra/kafka/kafka.sh (the local broker) and infra/compose/kafka-node.sh
# (docker-compose's nodes) both write into server.properties, so that the two clusters cannot
# drift apart. Sourced by both; defines functions only. Each prints properties lines.

# A KRaft node that is both broker and controller (static quorum), with SASL/SCRAM-SHA-512 on the
# client listener and ACLs enforced. The controller listener uses PLAIN with the admin's password
# (SCRAM credentials live in the metadata the controller serves, so the controller cannot use them
# itself); admin is the only super user, and nobody may connect to either listener without a password.
#   sasl_server_properties NODE_ID VOTERS CLIENT_LISTEN CONTROLLER_LISTEN ADVERTISED DATA_DIR ADMIN_PASSWORD
# (the listen and advertised addresses as host:port)
sasl_server_properties() {
  cat <<EOF2
process.roles=broker,controller
node.id=$1
controller.quorum.voters=$2
listeners=SASL_PLAINTEXT://$3,CONTROLLER://$4
advertised.listeners=SASL_PLAINTEXT://$5
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$6

sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$7";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$7" user_admin="$7";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
EOF2
}

# Replication, retention, timing and thread settings of every node.
#   common_server_properties NODES REPLICATION_FACTOR MIN_INSYNC_REPLICAS
common_server_properties() {
  cat <<EOF2

# $1 node(s): every topic, the internal ones too, has min(3, nodes) replicas and takes a
# write once min(2, that) hold it; few internal partitions
offsets.topic.replication.factor=$2
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$2
transaction.state.log.min.isr=$3
transaction.state.log.num.partitions=4
default.replication.factor=$2
min.insync.replicas=$3
num.partitions=1
# a replica that missed writes never becomes leader: that would drop acknowledged records
unclean.leader.election.enable=false
# stockmesh creates its topics itself
auto.create.topics.enable=false
# the first consumer group join must not wait the default 3 s
group.initial.rebalance.delay.ms=0

# dev retention: a day, at most 1 GiB per partition
log.retention.hours=24
log.retention.bytes=1073741824
log.retention.check.interval.ms=300000

# after an unclean stop (kill -9) the new incarnation can register only once the old one's
# session expired: default 9 s + heartbeats; broker and controller share this process, so shorter is safe.
# With several nodes this is also how long the partitions a killed node led wait for a new leader.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000

# small machine (2 cores): fewer threads, smaller log-cleaner buffer (default 128 MiB of heap)
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
EOF2
}
