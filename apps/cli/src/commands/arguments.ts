import { InvalidArgumentError } from 'commander';

/** A whole number argument (commander passes strings): refused before any request is sent. */
export function integer(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw new InvalidArgumentError('not a whole number');
  return Number(value);
}

/** A `sku:quantity` or `sku:quantity@warehouse` cart line. */
export function cartLine(value: string, previous: readonly CartLine[] = []): CartLine[] {
  const match = /^([^:@\s]+):(\d{1,9})(?:@([^:@\s]+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError('a line is sku:quantity or sku:quantity@warehouse');
  const [, sku, quantity, warehouseId] = match;
  return [...previous, { sku, quantity: Number(quantity), ...(warehouseId ? { warehouseId } : {}) }];
}

export interface CartLine {
  readonly sku: string;
  readonly quantity: number;
  readonly warehouseId?: string;
}
