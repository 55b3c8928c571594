export { deadLetter, refusalReason } from './dead-letters/dead-letter.js';
export { DeadLetterLog, type DeadLetterRange } from './dead-letters/dead-letter-log.js';
export { DeadLetterReplayers, type DeadLetterReplayer, type ReplayResult } from './dead-letters/dead-letter-replayers.js';
export {
  DeadLetterReplaysRepository,
  type DeadLetterPlace,
  type DeadLetterReplayRecord,
} from './dead-letters/dead-letter-replays.repository.js';
export { EventAppliers, type EventApplier, type OffsetEvent } from './event-appliers.js';
export { ConsumerPositionsRepository } from './consumer-positions.repository.js';
export { LazyPublisher } from './lazy-publisher.js';
export { OutboxRelay } from './outbox-relay.service.js';
export { OutboxRepository, type OutboxEntry } from './outbox.repository.js';
export { ReplicaBootstrap, type BootstrapPhase, type BootstrapStatus } from './replica-bootstrap.js';
export { ReplicaGaps, type ReplicaGap } from './replica-gaps.js';
export { ReplicationModule } from './replication.module.js';
export { ReplicationStatus, type RegionFreshness } from './replication-status.service.js';
export { Replicator } from './replicator.service.js';
export { StockStateReader, type StateRow } from './stock-state-reader.js';
export { topicSpecs } from './topic-specs.js';
export { TopicsReady } from './topics-ready.service.js';
