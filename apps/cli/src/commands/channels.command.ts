import { InvalidArgumentError, type Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';

/** A comma-separated list of warehouse ids, in allocation order. */
function warehouseList(value: string): string[] {
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) throw new InvalidArgumentError('warehouses are a comma-separated list of warehouse ids, in allocation order');
  return ids;
}

/** `channels list|get|define`: the sales channels (which warehouses a storefront sells from, in which order). */
export function channelsCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const channels = program.command('channels').description('sales channels: the warehouses a storefront sells from, in allocation order');
  const table = (items: readonly { id: string; region: string; name: string; warehouseIds: string[]; version: number }[]): void =>
    printTable(
      ['id', 'region', 'name', 'warehouses', 'version'],
      items.map((c) => [c.id, c.region, c.name, c.warehouseIds.join(' '), c.version]),
    );
  channels
    .command('list')
    .description('every channel the region knows (its own and, once replicated, every other region’s)')
    .action(async () => {
      const { data } = await answer(api().GET('/v1/channels'));
      show(output(), data, (list) => table(list.items));
    });
  channels
    .command('get')
    .description('one channel')
    .argument('<channelId>')
    .action(async (channelId: string) => {
      const { data } = await answer(api().GET('/v1/channels/{channelId}', { params: { path: { channelId } } }));
      show(output(), data, (c) => table([c]));
    });
  channels
    .command('define')
    .description('defines or changes a channel at its region (any region forwards it there); needs catalog:write')
    .argument('<channelId>')
    .requiredOption('--region <region>', 'the region that defines the channel')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--warehouses <list>', 'comma-separated warehouse ids, in the order reservations draw from them', warehouseList)
    .action(async (channelId: string, options: { region: string; name: string; warehouses: string[] }) => {
      const { data } = await answer(
        api().PUT('/v1/channels/{channelId}', {
          params: { path: { channelId } },
          body: { region: options.region, name: options.name, warehouseIds: options.warehouses },
        }),
      );
      show(output(), data, (c) => table([c]));
    });
}
