import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
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
} from 'class-validator';
import { IDENTIFIER_PATTERN, MAX_QUANTITY } from '../identifiers.js';

/** Every event type, versioned. The typed map below gives each one's `data`. */
export const EVENT_TYPES = {
  stockChanged: 'io.stockmesh.stock.changed.v1',
  warehouseChanged: 'io.stockmesh.warehouse.changed.v1',
  regionHeartbeat: 'io.stockmesh.region.heartbeat.v1',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Why a stock row changed: the ledger entry of the owner. */
export class StockChangeCauseDto {
  @IsIn(['set', 'adjustment', 'hold', 'commit', 'release']) readonly kind!: 'set' | 'adjustment' | 'hold' | 'commit' | 'release';
  @IsInt() @Min(-MAX_QUANTITY) @Max(MAX_QUANTITY) readonly delta!: number;
  @IsString() @Matches(/^[a-z-]{1,32}$/) readonly reason!: string;
  @IsUUID() readonly movementId!: string;
  @IsString() readonly actor!: string;
}

/**
 * `io.stockmesh.stock.changed.v1`: the full resulting state of one (warehouse, sku) row after a
 * change at its owner, with the row's version. Applying it is idempotent: a replica keeps the
 * highest version it has seen.
 */
export class StockChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly warehouseId!: string;
  @Matches(IDENTIFIER_PATTERN) readonly sku!: string;
  @Matches(REGION) readonly region!: string;
  @IsInt() @Min(0) @Max(1023) readonly shard!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly onHand!: number;
  @IsInt() @Min(0) @Max(MAX_QUANTITY) readonly reserved!: number;
  @IsInt() @Min(1) readonly version!: number;
  @IsISO8601({ strict: true }) readonly updatedAt!: string;
  @IsObject() @ValidateNested() @Type(() => StockChangeCauseDto) readonly cause!: StockChangeCauseDto;
}

/** `io.stockmesh.warehouse.changed.v1`: a warehouse as registered at its owning region. */
export class WarehouseChangedData {
  @Matches(IDENTIFIER_PATTERN) readonly id!: string;
  @Matches(REGION) readonly region!: string;
  @IsString() readonly name!: string;
  @IsOptional() @IsNumber() @Min(-90) @Max(90) readonly latitude!: number | null;
  @IsOptional() @IsNumber() @Min(-180) @Max(180) readonly longitude!: number | null;
  @IsInt() @Min(1) readonly version!: number;
  @IsISO8601({ strict: true }) readonly createdAt!: string;
  @IsISO8601({ strict: true }) readonly updatedAt!: string;
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
  @IsString() readonly instance!: string;
  @IsArray()
  @ArrayMaxSize(1024)
  @ValidateNested({ each: true })
  @Type(() => PartitionOffsetDto)
  readonly stockOffsets!: PartitionOffsetDto[];
  @IsInt() @Min(0) readonly outboxPending!: number;
}

/** The typed map of event types to their data. */
export interface EventDataMap {
  [EVENT_TYPES.stockChanged]: StockChangedData;
  [EVENT_TYPES.warehouseChanged]: WarehouseChangedData;
  [EVENT_TYPES.regionHeartbeat]: RegionHeartbeatData;
}

export const EVENT_DATA_CLASSES: { readonly [T in EventType]: new () => EventDataMap[T] } = {
  [EVENT_TYPES.stockChanged]: StockChangedData,
  [EVENT_TYPES.warehouseChanged]: WarehouseChangedData,
  [EVENT_TYPES.regionHeartbeat]: RegionHeartbeatData,
};
