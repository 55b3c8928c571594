import type { Command } from 'commander';
import { answer, keyedWrite, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';
import { cartLine, integer, type CartLine } from './arguments.js';

interface ReservationShown {
  readonly channel: string | null;
  readonly id: string;
  readonly status: string;
  readonly expiresAt: string;
  readonly allocations: readonly {
    sku: string;
    warehouseId: string;
    region: string;
    quantity: number;
    backordered?: number;
    state: string;
  }[];
}

function printReservation(r: ReservationShown): void {
  const channel = r.channel === null ? '' : `, channel ${r.channel}`;
  process.stdout.write(`reservation ${r.id}: ${r.status}${channel}, expires ${r.expiresAt}\n`);
  printTable(
    ['sku', 'warehouse', 'region', 'quantity', 'backordered', 'state'],
    r.allocations.map((a) => [a.sku, a.warehouseId, a.region, a.quantity, a.backordered ?? 0, a.state]),
  );
}

export function reservationsCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  program
    .command('reserve')
    .description('holds units for a cart, all lines or none, at the region at --url (it coordinates the holds at their owners)')
    .argument('<lines...>', 'cart lines: sku:quantity, or sku:quantity@warehouse for one warehouse', cartLine)
    .option('--ttl <seconds>', 'how long the hold lasts (the region’s default when omitted)', integer)
    .option('--reference <text>', 'your order or cart id, kept with the reservation')
    .option('--no-split', 'hold each line in one warehouse only')
    .option('--allow-backorder', 'units short on hand may be held out of incoming stock (a backorder)')
    .option('--channel <channelId>', 'hold only in the warehouses of this sales channel, in its order')
    .option('--idempotency-key <key>', 'to repeat the request safely (default: a new one, printed)')
    .action(
      async (
        lines: CartLine[],
        options: { ttl?: number; reference?: string; split: boolean; allowBackorder?: boolean; channel?: string; idempotencyKey?: string },
      ) => {
        const { data, key } = await keyedWrite(options.idempotencyKey, (key) =>
          api().POST('/v1/reservations', {
            params: { header: { 'Idempotency-Key': key } },
            body: {
              lines,
              allowSplit: options.split,
              ...(options.allowBackorder ? { allowBackorder: true } : {}),
              ...(options.ttl !== undefined ? { ttlSeconds: options.ttl } : {}),
              ...(options.reference !== undefined ? { reference: options.reference } : {}),
              ...(options.channel !== undefined ? { channel: options.channel } : {}),
            },
          }),
        );
        show(output(), data, (r) => {
          printReservation(r);
          process.stderr.write(`idempotency key ${key}\n`);
        });
      },
    );

  const reservation = program.command('reservation').description('a reservation made at the region at --url');
  reservation
    .command('get')
    .argument('<id>')
    .action(async (id: string) => {
      const { data } = await answer(api().GET('/v1/reservations/{id}', { params: { path: { id } } }));
      show(output(), data, printReservation);
    });
  for (const [verb, path, description] of [
    ['commit', '/v1/reservations/{id}/commit', 'the order is placed: the held units leave on hand'],
    ['release', '/v1/reservations/{id}/release', 'the cart is abandoned: the held units are for sale again'],
  ] as const) {
    reservation
      .command(verb)
      .description(description)
      .argument('<id>')
      .action(async (id: string) => {
        const { data, status } = await answer(api().POST(path, { params: { path: { id } } }));
        show(output(), data, (r) => {
          printReservation(r);
          if (status === 202) process.stderr.write('an owner has not answered yet; the region carries the commit on (ask again)\n');
        });
      });
  }
}
