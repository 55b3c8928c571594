import { InvalidArgumentError } from 'commander';

/** A whole number argument (commander passes strings): refused before any request is sent. */
export function integer(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw new InvalidArgumentError('not a whole number');
  return Number(value);
}

/** Logical shards as a list of numbers and ranges: `8-11,14` is 8, 9, 10, 11 and 14. */
export function shardList(value: string): number[] {
  const shards: number[] = [];
  for (const part of value.split(',')) {
    const match = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    if (!match) throw new InvalidArgumentError('shards are numbers and ranges separated by commas, e.g. 8-11,14');
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new InvalidArgumentError(`the range ${part} runs backwards`);
    for (let shard = from; shard <= to; shard++) if (!shards.includes(shard)) shards.push(shard);
  }
  return shards;
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
