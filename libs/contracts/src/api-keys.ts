/**
 * What an API key may do. Each operation of the API declares the one scope it needs; `admin`
 * may do everything, including managing keys. `stock:reserve-safety` is no operation's scope but
 * a capability on top of `reservations:write`: the key's reservations may hold into the safety
 * stock (see `mayUseSafetyStock`). docs/security.md says who gets which.
 */
export const API_SCOPES = ['stock:read', 'reservations:write', 'stock:write', 'catalog:write', 'stock:reserve-safety', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/**
 * Whether a key with these scopes may reserve into the safety stock: with `stock:reserve-safety`
 * (store staff, say), or `admin`, which may do everything. Storefront keys have neither, so their
 * reservations leave the safety stock untouched.
 */
export function mayUseSafetyStock(scopes: readonly string[]): boolean {
  return scopes.includes('stock:reserve-safety') || scopes.includes('admin');
}

/** A key id: 16 lower-case hex digits (64 random bits), the middle part of `smk_<id>_<secret>`. */
export const API_KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

/**
 * A key's name: 1-64 printable ASCII characters with a visible one. It goes into the ledger's
 * actor (at most 128 printable characters) together with the id.
 */
export const API_KEY_NAME_PATTERN = /^(?=.*[\x21-\x7e])[\x20-\x7e]{1,64}$/;
