import { InitialSchema1763900000000 } from './1763900000000-initial-schema.js';
import { Replication1763990000000 } from './1763990000000-replication.js';
import { Reservations1764100000000 } from './1764100000000-reservations.js';
import { ReservationFinishing1764310000000 } from './1764310000000-reservation-finishing.js';
import { Transfers1764200000000 } from './1764200000000-transfers.js';
import { ApiKeys1764300000000 } from './1764300000000-api-keys.js';
import { HoldExpiry1764330000000 } from './1764330000000-hold-expiry.js';
import { TransferReconciliation1764917000000 } from './1764917000000-transfer-reconciliation.js';
import { AntiEntropy1764350000000 } from './1764350000000-anti-entropy.js';
import { Retention1764400000000 } from './1764400000000-retention.js';
import { IdempotencyScope1764400000001 } from './1764400000001-idempotency-scope.js';
import { ReservationQuotas1764950000000 } from './1764950000000-reservation-quotas.js';
import { OutboxWithoutNotify1764955000000 } from './1764955000000-outbox-without-notify.js';
import { PartialCommits1764960000000 } from './1764960000000-partial-commits.js';
import { SalesChannels1764975000000 } from './1764975000000-sales-channels.js';
import { SafetyStock1765000000000 } from './1765000000000-safety-stock.js';
import { TransfersNewest1765100000000 } from './1765100000000-transfers-newest.js';
import { DeadLetterReplays1765100000001 } from './1765100000001-dead-letter-replays.js';
import { Kits1765200000000 } from './1765200000000-kits.js';
import { LowStockAlerts1765200000001 } from './1765200000001-low-stock-alerts.js';
import { IncomingStock1765300000000 } from './1765300000000-incoming-stock.js';
import { Backorders1765300000001 } from './1765300000001-backorders.js';
import { ReplicaBootstrap1765400000000 } from './1765400000000-replica-bootstrap.js';
import { ShardMoves1765500000000 } from './1765500000000-shard-moves.js';

/** Every migration, oldest first. Each physical database of a region runs all of them. */
export const MIGRATIONS = [
  InitialSchema1763900000000,
  Replication1763990000000,
  Reservations1764100000000,
  Transfers1764200000000,
  ApiKeys1764300000000,
  ReservationFinishing1764310000000,
  HoldExpiry1764330000000,
  AntiEntropy1764350000000,
  Retention1764400000000,
  IdempotencyScope1764400000001,
  TransferReconciliation1764917000000,
  ReservationQuotas1764950000000,
  OutboxWithoutNotify1764955000000,
  PartialCommits1764960000000,
  SalesChannels1764975000000,
  SafetyStock1765000000000,
  TransfersNewest1765100000000,
  DeadLetterReplays1765100000001,
  Kits1765200000000,
  LowStockAlerts1765200000001,
  IncomingStock1765300000000,
  Backorders1765300000001,
  ReplicaBootstrap1765400000000,
  ShardMoves1765500000000,
];
