/**
 * Identifier rules shared by the API and the events. Warehouse ids and SKUs: 1-64 characters,
 * letters, digits, `.`, `_`, `-`, starting with a letter or digit. They appear in URL paths and
 * Kafka keys, so no `/`, spaces or control characters.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const IDENTIFIER_MAX_LENGTH = 64;

/** The largest quantity a stock row can hold, and the largest single adjustment. */
export const MAX_QUANTITY = 1_000_000_000;

/** Reasons an adjustment may give. */
export const ADJUSTMENT_REASONS = ['received', 'returned', 'damaged', 'lost', 'found', 'correction', 'cycle-count'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];
