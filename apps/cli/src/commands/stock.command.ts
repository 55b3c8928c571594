import { ADJUSTMENT_REASONS, type AdjustmentReason } from '@stockmesh/contracts';
import { Option, type Command } from 'commander';
import { answer, CliError, keyedWrite, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';
import { integer } from './arguments.js';

interface StockRow {
  readonly warehouseId: string;
  readonly sku: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly available: number;
  readonly incoming: readonly { readonly receiptId: string; readonly quantity: number; readonly expectedAt: string }[];
  readonly version: number;
}

/** The row, then its open incoming receipts if it has any. */
const printRow = (row: StockRow): void => {
  printTable(
    ['warehouse', 'sku', 'on hand', 'reserved', 'safety stock', 'available', 'version'],
    [[row.warehouseId, row.sku, row.onHand, row.reserved, row.safetyStock, row.available, row.version]],
  );
  if (row.incoming.length > 0) {
    printTable(
      ['incoming receipt', 'expected', 'units'],
      row.incoming.map((r) => [r.receiptId, r.expectedAt, r.quantity]),
    );
  }
};

export function stockCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  /** Sends a stock write, shows the row, and says the Idempotency-Key it used (to repeat the write safely). */
  const write = async (
    given: string | undefined,
    send: (key: string) => Promise<{ data?: StockRow; error?: unknown; response: Response }>,
  ): Promise<void> => {
    const { data, key } = await keyedWrite(given, send);
    show(output(), data, (row) => {
      printRow(row);
      process.stderr.write(`idempotency key ${key}\n`);
    });
  };
  const stock = program.command('stock').description("a warehouse's stock of a SKU, at its owner (writes are forwarded there)");
  stock
    .command('get')
    .description('the row as its owner holds it')
    .argument('<warehouse>')
    .argument('<sku>')
    .action(async (warehouseId: string, sku: string) => {
      const { data } = await answer(api().GET('/v1/warehouses/{warehouseId}/stock/{sku}', { params: { path: { warehouseId, sku } } }));
      show(output(), data, printRow);
    });
  stock
    .command('set')
    .description(
      'a count: on hand becomes <onHand> (a ledger entry records the difference); and/or the safety stock or low-stock threshold',
    )
    .argument('<warehouse>')
    .argument('<sku>')
    .argument('[onHand]', 'units counted (may be left out when an option sets something)', integer)
    .option('--safety-stock <units>', 'units storefront reservations leave untouched', integer)
    .option('--low-stock-threshold <units>', 'announce stock.low below this many available units (0: no alerts)', integer)
    .option('--idempotency-key <key>', 'to repeat a write safely (default: a new one, printed)')
    .action(
      async (
        warehouseId: string,
        sku: string,
        onHand: number | undefined,
        options: { safetyStock?: number; lowStockThreshold?: number; idempotencyKey?: string },
      ) => {
        if (onHand === undefined && options.safetyStock === undefined && options.lowStockThreshold === undefined) {
          throw new CliError('stock set needs <onHand>, --safety-stock or --low-stock-threshold', 2);
        }
        await write(options.idempotencyKey, (key) =>
          api().PUT('/v1/warehouses/{warehouseId}/stock/{sku}', {
            params: { path: { warehouseId, sku }, header: { 'Idempotency-Key': key } },
            body: {
              ...(onHand === undefined ? {} : { onHand }),
              ...(options.safetyStock === undefined ? {} : { safetyStock: options.safetyStock }),
              ...(options.lowStockThreshold === undefined ? {} : { lowStockThreshold: options.lowStockThreshold }),
            },
          }),
        );
      },
    );
  stock
    .command('adjust')
    .description('a movement: on hand changes by <delta> (negative to take units out)')
    .argument('<warehouse>')
    .argument('<sku>')
    .argument('<delta>', 'units in (or out, negative)', integer)
    .addOption(new Option('--reason <reason>', 'why, for the ledger').choices(ADJUSTMENT_REASONS).makeOptionMandatory())
    .option('--idempotency-key <key>', 'to repeat a write safely (default: a new one, printed)')
    .action(async (warehouseId: string, sku: string, delta: number, options: { reason: AdjustmentReason; idempotencyKey?: string }) => {
      await write(options.idempotencyKey, (key) =>
        api().POST('/v1/warehouses/{warehouseId}/stock/{sku}/adjustments', {
          params: { path: { warehouseId, sku }, header: { 'Idempotency-Key': key } },
          body: { delta, reason: options.reason },
        }),
      );
    });

  stock
    .command('incoming')
    .description('announce (or change) an incoming receipt: <quantity> units expected on <expectedAt> (YYYY-MM-DD)')
    .argument('<warehouse>')
    .argument('<sku>')
    .argument('<receiptId>', 'the purchase order or shipping notice')
    .argument('<quantity>', 'units still expected', integer)
    .argument('<expectedAt>', 'the expected day, YYYY-MM-DD')
    .option('--idempotency-key <key>', 'to repeat a write safely (default: a new one, printed)')
    .action(
      async (
        warehouseId: string,
        sku: string,
        receiptId: string,
        quantity: number,
        expectedAt: string,
        options: { idempotencyKey?: string },
      ) => {
        await write(options.idempotencyKey, (key) =>
          api().PUT('/v1/warehouses/{warehouseId}/stock/{sku}/incoming/{receiptId}', {
            params: { path: { warehouseId, sku, receiptId }, header: { 'Idempotency-Key': key } },
            body: { quantity, expectedAt },
          }),
        );
      },
    );
  stock
    .command('receive')
    .description('receive <quantity> units of an incoming receipt: they go on hand')
    .argument('<warehouse>')
    .argument('<sku>')
    .argument('<receiptId>')
    .argument('<quantity>', 'units that arrived', integer)
    .option('--close', 'close the receipt whatever it still expects (the rest will not come)')
    .option('--idempotency-key <key>', 'to repeat a write safely (default: a new one, printed)')
    .action(
      async (
        warehouseId: string,
        sku: string,
        receiptId: string,
        quantity: number,
        options: { close?: boolean; idempotencyKey?: string },
      ) => {
        await write(options.idempotencyKey, (key) =>
          api().POST('/v1/warehouses/{warehouseId}/stock/{sku}/incoming/{receiptId}/receive', {
            params: { path: { warehouseId, sku, receiptId }, header: { 'Idempotency-Key': key } },
            body: { quantity, ...(options.close ? { close: true } : {}) },
          }),
        );
      },
    );
  stock
    .command('cancel-incoming')
    .description('cancel an incoming receipt: its units will not come')
    .argument('<warehouse>')
    .argument('<sku>')
    .argument('<receiptId>')
    .option('--idempotency-key <key>', 'to repeat a write safely (default: a new one, printed)')
    .action(async (warehouseId: string, sku: string, receiptId: string, options: { idempotencyKey?: string }) => {
      await write(options.idempotencyKey, (key) =>
        api().DELETE('/v1/warehouses/{warehouseId}/stock/{sku}/incoming/{receiptId}', {
          params: { path: { warehouseId, sku, receiptId }, header: { 'Idempotency-Key': key } },
        }),
      );
    });

  program
    .command('availability')
    .description('what can be sold of a SKU, per warehouse, as the region at --url sees it (with how fresh each region is)')
    .argument('<sku>')
    .option('--channel <channelId>', 'only the warehouses this sales channel sells from, in its order')
    .action(async (sku: string, options: { channel?: string }) => {
      const query = options.channel === undefined ? {} : { channel: options.channel };
      const { data } = await answer(api().GET('/v1/availability/{sku}', { params: { path: { sku }, query } }));
      show(output(), data, (a) => {
        printTable(
          ['warehouse', 'region', 'on hand', 'reserved', 'safety stock', 'available'],
          a.warehouses.map((w) => [w.warehouseId, w.region, w.onHand, w.reserved, w.safetyStock, w.available]),
        );
        process.stdout.write(
          `total${a.channel === null ? '' : ` of channel ${a.channel}`}: ${a.onHand} on hand, ${a.reserved} reserved, ${a.safetyStock} safety stock, ${a.available} available (served by ${a.servedBy})\n`,
        );
        for (const day of a.incoming) {
          process.stdout.write(`incoming ${day.expectedAt}: ${day.quantity} expected, ${day.promisable} can be promised by then\n`);
        }
      });
    });

  program
    .command('warehouses')
    .description('the catalog: every warehouse and the region that owns it')
    .action(async () => {
      const { data } = await answer(api().GET('/v1/warehouses', {}));
      show(output(), data, (list) =>
        printTable(
          ['warehouse', 'region', 'name'],
          list.items.map((w) => [w.id, w.region, w.name]),
        ),
      );
    });
}
