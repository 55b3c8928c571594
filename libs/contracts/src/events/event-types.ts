import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  IsArray,
  ArrayMaxSize,
  IsUUID,
  ArrayMinSize,
  ArrayUnique,
  Length,
  IsISO8601,
} from 'class-validator';
import { API_KEY_ID_PATTERN, API_KEY_NAME_PATTERN, API_SCOPES, type ApiScope } from '../api-keys.js';
import { API_KEY_SIGNATURE_PATTERN } from './api-key-signature.js';
import {
  IDENTIFIER_PATTERN,
  EXPECTED_DATE_PATTERN,
  MAX_CHANNEL_WAREHOUSES,
  MAX_INCOMING_RECEIPTS,
  MAX_KIT_COMPONENT_QUANTITY,
  MAX_KIT_COMPONENTS,
  MAX_QUANTITY,
  TRANSFER_ID_PATTERN,
} from '../identifiers.js';
import { CommandCompletedData, CommandRejectedData } from './command-types.js';
import { IsEventTime, IsEventVersion, MAX_EVENT_COUNT } from './event-fields.js';

/** Every event type, versioned. The typed map below gives each one's `data`. */
export const EVENT_TYPES = {
  stockChanged: 'io.stockmesh.stock.changed.v1',
  stockDigest: 'io.stockmesh.stock.digest.v1',
  warehouseChanged: 'io.stockmesh.warehouse.changed.v1',
  channelChanged: 'io.stockmesh.channel.changed.v1',
  kitChanged: 'io.stockmesh.kit.changed.v1',
  regionHeartbeat: 'io.stockmesh.region.heartbeat.v1',
  transferDispatched: 'io.stockmesh.transfer.dispatched.v1',
  transferReceived: 'io.stockmesh.transfer.received.v1',
  commandCompleted: 'io.stockmesh.command.completed.v1',
  commandRejected: 'io.stockmesh.command.rejected.v1',
  apiKeyChanged: 'io.stockmesh.api-key.changed.v1',
  stockLow: 'io.stockmesh.stock.low.v1',
  stockBackInStock: 'io.stockmesh.stock.back-in-stock.v1',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Free text stored in `text` columns: no control characters (PostgreSQL refuses NUL, 22021). */
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

/** Why a stock row changed: the ledger entry of the owner. */
/** What made a stock row change. */
export const STOCK_CHANGE_KINDS = [
  'set',
  'adjustment',
  'hold',
  'commit',
  'release',
  'transfer-out',
  'transfer-in',
  'transfer-return',
] as const;

export class StockChangeCauseDto {
  @IsIn(STOCK_CHANGE_KINDS)
  readonly kind!: (typeof STOCK_CHANGE_KINDS)[number];
  @IsInt() @Min(-MAX_QUANTITY) @Max(MAX_QUANTITY) readonly delta!: number;
  @IsString() @Matches(/^[a-z-]{1,32}$/) readonly reason!: string;
  @IsUUID() readonly movementId!: string;
  @IsString() @Length(1, 255) @Matches(NO_CONTROL_CHARACTERS) readonly actor!: string;
}

/**
 * One open incoming receipt of a stock row: units announced by a purchase order or an advance
 * shipping notice (`receiptId`), not received yet, expected on a day.
 */
export class IncomingReceiptDto {
  @Matches(IDENTIFIER_PATTERN) readonly receiptId!: string;
  /** Units still expected (what was received already is on hand). */
  @IsInt() @Min(1) @Max(MAX_QUANTITY) readonly quantity!: number;
  /** The expected day of arrival, `YYYY-MM-DD` (a real day: strict ISO 8601 refuses 30 February). */
  @Matches(EXPECTED_DATE_PATTERN) @IsISO8601({ strict: true }) readonly expectedAt!: string;
}

/**
 * `io.stockmesh.stock.changed.v1`: the full resulting state of one (warehouse, sku) row after a
 * change at its owner, with the row's version. Applying it is idempotent: a replica keeps the
 * highest version it has seen. `safetyStock`, `incoming` and `backordered` were added within v1
 * (optional fields, so that events of a region not yet upgraded still apply): absent means 0,
 * none and 0.
 */
export class StockChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly warehouseId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @Matches(REGION) readonly region!: string;
  @IsInt() @Min(0) @Max(1023) readonly shard!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly onHand!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly reserved!: number;
  /** Units storefront holds leave untouched (may exceed onHand); absent (an older owner) means 0. */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly safetyStock?: number;
  /** The row's open incoming receipts, by expected day then id; absent (none, or an older owner) means none. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_INCOMING_RECEIPTS)
  @ArrayUnique((r: IncomingReceiptDto) => r?.receiptId)
  @ValidateNested({ each: true })
  @Type(() => IncomingReceiptDto)
  readonly incoming?: IncomingReceiptDto[];
  /** Units promised out of `incoming` to backorders (held or sold, not filled yet); absent means 0. */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly backordered?: number;
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly updatedAt!: string;
  @IsObject() @ValidateNested() @Type(() => StockChangeCauseDto) readonly cause!: StockChangeCauseDto;
}

/**
 * `io.stockmesh.stock.low.v1` and `io.stockmesh.stock.back-in-stock.v1`: a row's storefront
 * `available` (onHand - reserved - safetyStock, never below 0) crossed its low-stock threshold,
 * downwards (low: now below it) or upwards (back in stock: at or above it again), at the owner,
 * in the transaction of the change that crossed. One event per crossing; the row's state is the
 * one right after that change (`version`), as on its `stock.changed` event.
 */
export class StockAlertData {
  @Matches(IDENTIFIER_PATTERN) readonly warehouseId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @Matches(REGION) readonly region!: string;
  @IsInt() @Min(0) @Max(1023) readonly shard!: number;
  /** The row's threshold when it crossed: low means available < lowStockThreshold. */
  @IsInt() @Min(1) @Max(MAX_QUANTITY) readonly lowStockThreshold!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly available!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly onHand!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly reserved!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly safetyStock!: number;
  /** The row's version after the change that crossed (its `stock.changed` event has the same). */
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly updatedAt!: string;
  /** The change that crossed, as on that `stock.changed` event. */
  @IsObject() @ValidateNested() @Type(() => StockChangeCauseDto) readonly cause!: StockChangeCauseDto;
}

/** `io.stockmesh.warehouse.changed.v1`: a warehouse as registered at its owning region. */
export class WarehouseChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly id!: string;
  @Matches(REGION) readonly region!: string;
  @IsString() @Length(1, 200) @Matches(NO_CONTROL_CHARACTERS) readonly name!: string;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-90) @Max(90) readonly latitude!: number | null;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-180) @Max(180) readonly longitude!: number | null;
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly createdAt!: string;
  @IsEventTime() readonly updatedAt!: string;
}

/**
 * `io.stockmesh.channel.changed.v1`: a sales channel as its owning region defines it: the
 * warehouses it sells from, in the order it allocates from them (which may be any region's).
 */
export class ChannelChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly id!: string;
  @Matches(REGION) readonly region!: string;
  @IsString() @Length(1, 200) @Matches(NO_CONTROL_CHARACTERS) readonly name!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CHANNEL_WAREHOUSES)
  @ArrayUnique()
  @Matches(IDENTIFIER_PATTERN, { each: true })
  readonly warehouseIds!: string[];
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly createdAt!: string;
  @IsEventTime() readonly updatedAt!: string;
}

/** One component of a kit: units of `sku` that one unit of the kit takes. */
export class KitComponentDto {
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @IsInt() @Min(1) @Max(MAX_KIT_COMPONENT_QUANTITY) readonly quantity!: number;
}

/**
 * `io.stockmesh.kit.changed.v1`: a kit (bundle) as its owning region defines it: a SKU whose units
 * are its components, each a plain SKU (kits do not nest), none twice.
 */
export class KitChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @Matches(REGION) readonly region!: string;
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_KIT_COMPONENTS)
  @ArrayUnique((c: KitComponentDto) => c.sku)
  @ValidateNested({ each: true })
  @Type(() => KitComponentDto)
  readonly components!: KitComponentDto[];
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly createdAt!: string;
  @IsEventTime() readonly updatedAt!: string;
}

/**
 * `io.stockmesh.api-key.changed.v1`: an API key as the region that last changed it sees it (made,
 * or revoked). Carries the SHA-256 of the secret, never the secret. Applying keeps the highest
 * version, and a revoked key stays revoked whatever arrives later.
 */
export class ApiKeyChangedData {
  @Matches(API_KEY_ID_PATTERN) readonly id!: string;
  @IsString() @Matches(API_KEY_NAME_PATTERN) readonly name!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(API_SCOPES.length) @IsIn(API_SCOPES, { each: true }) readonly scopes!: ApiScope[];
  /** base64url SHA-256 of the secret part of the key. */
  @Matches(/^[A-Za-z0-9_-]{43}$/) readonly secretHash!: string;
  /** The region where the key was made. */
  @Matches(REGION) readonly region!: string;
  @IsEventVersion() readonly version!: number;
  @IsEventTime() readonly createdAt!: string;
  @IsOptional() @IsEventTime() readonly revokedAt!: string | null;
  /** The sales channel the key is bound to; absent (older records) or `null` when it is not bound. */
  @IsOptional() @Matches(IDENTIFIER_PATTERN) readonly channel?: string | null;
  /**
   * The sending region's signature of the record with the cluster secret (`signApiKeyChange`):
   * regions apply no key change without a valid one.
   */
  @IsString() @Matches(API_KEY_SIGNATURE_PATTERN) readonly signature!: string;
}

export class PartitionOffsetDto {
  @IsInt() @Min(0) readonly partition!: number;
  @IsString() @Matches(/^\d{1,19}$/) readonly offset!: string;
}

/**
 * `io.stockmesh.region.heartbeat.v1`: sent by every instance of a region every second: the last
 * offset it published to each partition of the stock topic. A region whose data reached those
 * offsets holds everything the sender had published at `time`.
 */
export class RegionHeartbeatData {
  @Matches(REGION) readonly region!: string;
  @IsString() @Length(1, 255) @Matches(NO_CONTROL_CHARACTERS) readonly instance!: string;
  @IsArray()
  @ArrayMaxSize(1024)
  @ValidateNested({ each: true })
  @Type(() => PartitionOffsetDto)
  readonly stockOffsets!: PartitionOffsetDto[];
  @IsInt() @Min(0) @Max(MAX_EVENT_COUNT) readonly outboxPending!: number;
}

/** What every event of one transfer carries: the transfer, its two rows and the units moved. */
export class TransferData {
  @Matches(TRANSFER_ID_PATTERN) readonly transferId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @IsInt() @Min(0) @Max(1023) readonly shard!: number;
  @Matches(IDENTIFIER_PATTERN) readonly fromWarehouseId!: string;
  @Matches(REGION) readonly fromRegion!: string;
  @Matches(IDENTIFIER_PATTERN) readonly toWarehouseId!: string;
  @Matches(REGION) readonly toRegion!: string;
  @IsInt() @Min(1) @Max(MAX_QUANTITY) readonly quantity!: number;
}

/**
 * `io.stockmesh.transfer.dispatched.v1`: the source warehouse's owner took the units out of
 * on-hand; the destination's owner adds them, once per transfer id.
 */
export class TransferDispatchedData extends TransferData {
  @IsEventTime() readonly dispatchedAt!: string;
}

/**
 * `io.stockmesh.transfer.received.v1`: the destination's owner settled a transfer, once: it
 * added the units (`received`), or could not hold them and sends them back (`refused`).
 */
export class TransferReceivedData extends TransferData {
  @IsIn(['received', 'refused']) readonly outcome!: 'received' | 'refused';
  @IsEventTime() readonly receivedAt!: string;
}

/** Buckets of a shard's digest: rows fall into one by a hash of `warehouseId/sku` (see docs/events.md). */
export const DIGEST_BUCKETS = 64;

/** One non-empty bucket of a digest: how many rows fall into it and the XOR of their row hashes. */
export class DigestBucketDto {
  @IsInt() @Min(0) @Max(DIGEST_BUCKETS - 1) readonly bucket!: number;
  @IsInt() @Min(1) readonly rows!: number;
  /** 16 lower-case hex digits: the XOR of the first 64 bits of each row's MD5 (see docs/events.md). */
  @Matches(/^[0-9a-f]{16}$/) readonly hash!: string;
}

/**
 * `io.stockmesh.stock.digest.v1`: what an owner's rows of one shard looked like at one moment,
 * and where that moment lies in the stock topic's partition = shard: every change of the owner
 * on it below `fromOffset` is counted, and every change counted is below `toOffset`. A replica
 * compares once it has applied the partition up to `toOffset`, leaving out the buckets whose
 * rows it applied from `fromOffset` on (they may have changed since) and the buckets the owner
 * names in `unsettled` (changes counted but not yet published). See docs/events.md.
 */
export class StockDigestData {
  @Matches(REGION) readonly region!: string;
  @IsInt() @Min(0) @Max(1023) readonly shard!: number;
  @IsIn([DIGEST_BUCKETS]) readonly bucketCount!: number;
  /** The stock topic's end offset of the partition read before the rows were digested. */
  @IsString() @Matches(/^\d{1,19}$/) readonly fromOffset!: string;
  /** The same end offset read after they were digested. */
  @IsString() @Matches(/^\d{1,19}$/) readonly toOffset!: string;
  /** Rows counted, over every bucket. */
  @IsInt() @Min(0) readonly rows!: number;
  /** The non-empty buckets, each once; a bucket absent here and from `unsettled` has no rows. */
  @IsArray()
  @ArrayMaxSize(DIGEST_BUCKETS)
  @ValidateNested({ each: true })
  @Type(() => DigestBucketDto)
  readonly buckets!: DigestBucketDto[];
  /** Buckets with changes committed but not yet published when digested: not to be compared. */
  @IsArray()
  @ArrayMaxSize(DIGEST_BUCKETS)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(DIGEST_BUCKETS - 1, { each: true })
  readonly unsettled!: number[];
  @IsEventTime() readonly computedAt!: string;
}

/** The typed map of event types to their data. */
export interface EventDataMap {
  [EVENT_TYPES.stockChanged]: StockChangedData;
  [EVENT_TYPES.stockDigest]: StockDigestData;
  [EVENT_TYPES.warehouseChanged]: WarehouseChangedData;
  [EVENT_TYPES.channelChanged]: ChannelChangedData;
  [EVENT_TYPES.kitChanged]: KitChangedData;
  [EVENT_TYPES.regionHeartbeat]: RegionHeartbeatData;
  [EVENT_TYPES.transferDispatched]: TransferDispatchedData;
  [EVENT_TYPES.transferReceived]: TransferReceivedData;
  [EVENT_TYPES.commandCompleted]: CommandCompletedData;
  [EVENT_TYPES.commandRejected]: CommandRejectedData;
  [EVENT_TYPES.apiKeyChanged]: ApiKeyChangedData;
  [EVENT_TYPES.stockLow]: StockAlertData;
  [EVENT_TYPES.stockBackInStock]: StockAlertData;
}

export const EVENT_DATA_CLASSES: { readonly [T in EventType]: new () => EventDataMap[T] } = {
  [EVENT_TYPES.stockChanged]: StockChangedData,
  [EVENT_TYPES.stockDigest]: StockDigestData,
  [EVENT_TYPES.warehouseChanged]: WarehouseChangedData,
  [EVENT_TYPES.channelChanged]: ChannelChangedData,
  [EVENT_TYPES.kitChanged]: KitChangedData,
  [EVENT_TYPES.regionHeartbeat]: RegionHeartbeatData,
  [EVENT_TYPES.transferDispatched]: TransferDispatchedData,
  [EVENT_TYPES.transferReceived]: TransferReceivedData,
  [EVENT_TYPES.commandCompleted]: CommandCompletedData,
  [EVENT_TYPES.commandRejected]: CommandRejectedData,
  [EVENT_TYPES.apiKeyChanged]: ApiKeyChangedData,
  [EVENT_TYPES.stockLow]: StockAlertData,
  [EVENT_TYPES.stockBackInStock]: StockAlertData,
};
