import type { Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';

/** `replicas rebuild`: the region asked rebuilds its copies of other regions' stock from the state topic, now. */
export function replicasCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const replicas = program.command('replicas').description('the region’s copies of other regions’ stock');
  replicas
    .command('rebuild')
    .description('rebuilds the replicas from the owners’ state topic now, while replication goes on; answers once done')
    .option('--region <region>', 'only the rows this region owns (default: every other region’s)')
    .action(async (options: { region?: string }) => {
      const body = options.region === undefined ? {} : { region: options.region };
      const { data } = await answer(api().POST('/v1/cluster/replicas/rebuild', { body }));
      show(output(), data, (r) =>
        printTable(
          ['region', 'sources', 'shards', 'rows read', 'rows repaired', 'ms'],
          [[r.region, r.sources.join(' '), r.shards, r.rowsRead, r.rowsRepaired, r.ms]],
        ),
      );
    });
}
