import type { Command } from 'commander';
import { answer, keyedWrite, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';
import type { components } from '../stockmesh-api.generated.js';
import { integer } from './arguments.js';

/** A transfer as the API answers it (its OpenAPI schema). */
type TransferShown = components['schemas']['TransferView'];

function printTransfer(t: TransferShown): void {
  process.stdout.write(`transfer ${t.id}: ${t.status}${t.statusReason ? ` (${t.statusReason})` : ''}\n`);
  printTable(
    ['sku', 'quantity', 'from', 'to'],
    [[t.sku, t.quantity, `${t.fromWarehouseId} (${t.fromRegion})`, `${t.toWarehouseId} (${t.toRegion})`]],
  );
}

/** `transfer send|get|cancel`: units moving between warehouses, at the source's region (the API forwards there). */
export function transfersCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const transfer = program.command('transfer').description('units moving from one warehouse to another, possibly in another region');
  transfer
    .command('send')
    .description('takes units out of --from now and sends them to --to, which adds them when it receives the transfer')
    .argument('<sku>')
    .argument('<quantity>', 'units, at least 1', integer)
    .requiredOption('--from <warehouse>', 'where the units leave')
    .requiredOption('--to <warehouse>', 'where they arrive')
    .option('--idempotency-key <key>', 'to repeat the request safely (default: a new one, printed)')
    .action(async (sku: string, quantity: number, options: { from: string; to: string; idempotencyKey?: string }) => {
      const { data, key } = await keyedWrite(options.idempotencyKey, (key) =>
        api().POST('/v1/transfers', {
          params: { header: { 'Idempotency-Key': key } },
          body: { sku, quantity, fromWarehouseId: options.from, toWarehouseId: options.to },
        }),
      );
      show(output(), data, (t) => {
        printTransfer(t);
        process.stderr.write(`idempotency key ${key}\n`);
      });
    });
  transfer
    .command('get')
    .description('a transfer as its source region has it (pending, completed, returned, cancelled or failed)')
    .argument('<id>')
    .action(async (id: string) => {
      const { data } = await answer(api().GET('/v1/transfers/{id}', { params: { path: { id } } }));
      show(output(), data, printTransfer);
    });
  transfer
    .command('cancel')
    .description('cancels a pending transfer the destination has not received: the units go back to the source')
    .argument('<id>')
    .action(async (id: string) => {
      const { data } = await answer(api().POST('/v1/transfers/{id}/cancel', { params: { path: { id } } }));
      show(output(), data, printTransfer);
    });
}
