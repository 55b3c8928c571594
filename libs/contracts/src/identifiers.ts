/**
 * Identifier rules shared by the API and the events. Warehouse ids and SKUs: 1-64 characters,
 * letters, digits, `.`, `_`, `-`, starting with a letter or digit. They appear in URL paths and
 * Kafka keys, so no `/`, spaces or control characters.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const IDENTIFIER_MAX_LENGTH = 64;

/** The most warehouses a sales channel may sell from. */
export const MAX_CHANNEL_WAREHOUSES = 50;

/**
 * The most components a kit may have, and the most units of one component a kit may take: a kit
 * line of a reservation holds every component at once, so a kit is bounded like a cart's lines.
 */
export const MAX_KIT_COMPONENTS = 20;
export const MAX_KIT_COMPONENT_QUANTITY = 1000;

/** The largest quantity a stock row can hold, and the largest single adjustment. */
export const MAX_QUANTITY = 1_000_000_000;

/**
 * The most open incoming receipts (purchase orders, advance shipping notices) one stock row may
 * have at once: they travel inside every event of the row.
 */
export const MAX_INCOMING_RECEIPTS = 20;

/** An expected date of arrival: a calendar day, `YYYY-MM-DD` (the warehouse's day, no time zone). */
export const EXPECTED_DATE_PATTERN = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Whether `value` is a real day in EXPECTED_DATE_PATTERN's form (no 30 February). */
export function isExpectedDate(value: unknown): value is string {
  return (
    typeof value === 'string' && EXPECTED_DATE_PATTERN.test(value) && new Date(`${value}T00:00:00.000Z`).toISOString().startsWith(value)
  );
}

/** Reasons an adjustment may give. */
export const ADJUSTMENT_REASONS = ['received', 'returned', 'damaged', 'lost', 'found', 'correction', 'cycle-count'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

/**
 * Reservation ids name their coordinating region: `<region>.<uuid>`, e.g.
 * `eu-west.0f8fad5b-d9cb-469f-a165-70867728950e`; any region forwards calls to that region.
 */
export const RESERVATION_ID_PATTERN = /^[a-z][a-z0-9-]{0,23}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Holds are named `<reservationId>.<allocationNo>` by the coordinator. */
export const HOLD_ID_PATTERN = /^[a-z][a-z0-9-]{0,23}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.\d{1,4}$/;

/** The region coordinating a reservation, from its id. */
export function coordinatorOf(reservationId: string): string {
  return reservationId.slice(0, reservationId.indexOf('.'));
}

/**
 * Transfer ids name the region of the source warehouse, which records the transfer:
 * `<region>.<uuid>`, the same shape as reservation ids; any region forwards reads there.
 */
export const TRANSFER_ID_PATTERN = RESERVATION_ID_PATTERN;

/** The region that holds a transfer (its source warehouse's owner), from its id. */
export function sourceRegionOf(transferId: string): string {
  return transferId.slice(0, transferId.indexOf('.'));
}

/** Most lines one reservation may have. */
export const MAX_RESERVATION_LINES = 100;
/** Reservation lifetimes, in seconds. */
export const RESERVATION_TTL = { min: 1, max: 86_400, default: 900 } as const;
