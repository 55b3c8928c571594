import type { Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';
import { shardList } from './arguments.js';

/** `shards list|move`: where the region's logical shards live, and moving them to another of its databases online. */
export function shardsCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const shards = program.command('shards').description('the region’s logical shards and the databases hosting them');
  shards
    .command('list')
    .description('where each of the region’s databases’ shards live now, with the shard map’s version')
    .action(async () => {
      const { data } = await answer(api().GET('/v1/cluster/shards'));
      show(output(), data, (map) =>
        printTable(
          ['region', 'database', 'shards', 'map version'],
          map.databases.map((db) => [map.region, db.name, ranges(db.shards) || '(spare)', map.version]),
        ),
      );
    });
  shards
    .command('move')
    .description(
      'moves logical shards to another database of the region while writes go on (copy, a paused cutover of about a second, then the old copy is deleted); answers once done',
    )
    .argument('<shards>', 'the shards, all in one database now: numbers and ranges, e.g. 8-11,14', shardList)
    .requiredOption('--to <database>', 'the database to move them to, by its name in the cluster file (e.g. us-east/2)')
    .action(async (list: number[], options: { to: string }) => {
      const { data } = await answer(api().POST('/v1/cluster/shards/moves', { body: { shards: list, to: options.to } }));
      show(output(), data, (m) =>
        printTable(
          ['shards', 'from', 'to', 'rounds', 'rows copied', 'pause ms', 'map version', 'ms'],
          [[ranges(m.shards), m.from, m.to, m.rounds, m.rowsCopied, m.pauseMs, m.mapVersion, m.ms]],
        ),
      );
    });
}

/** `[8, 9, 10, 14]` as `8-10,14`. */
function ranges(shards: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < shards.length;) {
    let j = i;
    while (j + 1 < shards.length && shards[j + 1] === shards[j]! + 1) j++;
    parts.push(i === j ? `${shards[i]}` : `${shards[i]}-${shards[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
