export { EventAppliers, type EventApplier } from './event-appliers.js';
export { OutboxRelay } from './outbox-relay.service.js';
export { OutboxRepository, type OutboxEntry } from './outbox.repository.js';
export { ReplicationModule } from './replication.module.js';
export { ReplicationStatus, type RegionFreshness } from './replication-status.service.js';
export { Replicator } from './replicator.service.js';
export { topicSpecs } from './topic-specs.js';
