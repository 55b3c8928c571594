import { Global, Module } from '@nestjs/common';
import { MessageBus } from '@stockmesh/messaging';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { DeadLetterLog } from './dead-letters/dead-letter-log.js';
import { DeadLetterReplayers } from './dead-letters/dead-letter-replayers.js';
import { DeadLetterReplaysRepository } from './dead-letters/dead-letter-replays.repository.js';
import { EventAppliers } from './event-appliers.js';
import { HeartbeatService } from './heartbeat.service.js';
import { messageBusProvider } from './message-bus.provider.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { OutboxRepository } from './outbox.repository.js';
import { PublishedOffsets } from './published-offsets.js';
import { ReplicaGaps } from './replica-gaps.js';
import { StockDigestListener } from './stock-digest-listener.service.js';
import { StockStateReader } from './stock-state-reader.js';
import { ReplicaBootstrap } from './replica-bootstrap.js';
import { ReplicaRebuilder } from './replica-rebuilder.service.js';
import { ReplicationStatus } from './replication-status.service.js';
import { Replicator } from './replicator.service.js';
import { TopicsReady } from './topics-ready.service.js';

/**
 * Replication through Kafka: the outbox and its relay, the replicator that applies other
 * regions' events, the rebuild from the state topic, heartbeats and lag. Global: stock and
 * catalog write to the outbox and register their event appliers.
 */
@Global()
@Module({
  providers: [
    messageBusProvider,
    OutboxRepository,
    ConsumerPositionsRepository,
    EventAppliers,
    DeadLetterReplayers,
    DeadLetterLog,
    DeadLetterReplaysRepository,
    PublishedOffsets,
    TopicsReady,
    OutboxRelay,
    ReplicaRebuilder,
    ReplicaBootstrap,
    ReplicaGaps,
    StockStateReader,
    StockDigestListener,
    Replicator,
    ReplicationStatus,
    HeartbeatService,
  ],
  exports: [
    MessageBus,
    DeadLetterReplayers,
    DeadLetterLog,
    DeadLetterReplaysRepository,
    OutboxRepository,
    EventAppliers,
    ReplicaGaps,
    ReplicaBootstrap,
    StockStateReader,
    ReplicationStatus,
    OutboxRelay,
    Replicator,
    TopicsReady,
  ],
})
export class ReplicationModule {}
