import { API_SCOPES, type ApiScope } from '@stockmesh/contracts';
import { InvalidArgumentError, type Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';

function scopes(value: string): ApiScope[] {
  const list = value.split(',').map((s) => s.trim());
  const unknown = list.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (list.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(`scopes are a comma-separated list of ${API_SCOPES.join(', ')}`);
  return list as ApiScope[];
}

export function keysCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const keys = program.command('keys').description('API keys (needs an admin key); a key made in one region works in every region');
  keys
    .command('create')
    .description('makes a key; its secret is printed this once, on stdout alone, so that it can be piped into a file')
    .argument('<name>')
    .requiredOption('--scopes <list>', `comma-separated: ${API_SCOPES.join(', ')}`, scopes)
    .option('--channel <channelId>', 'binds the key to a sales channel: its availability and reservations are that channel’s')
    .action(async (name: string, options: { scopes: ApiScope[]; channel?: string }) => {
      const body = { name, scopes: options.scopes, ...(options.channel === undefined ? {} : { channel: options.channel }) };
      const { data } = await answer(api().POST('/v1/api-keys', { body }));
      show(output(), data, (k) => {
        const bound = k.channel === null ? '' : `, bound to channel ${k.channel}`;
        process.stderr.write(`key ${k.id} (${k.name}: ${k.scopes.join(' ')}${bound}) made in ${k.region}; its secret is not shown again\n`);
        process.stdout.write(`${k.key}\n`);
      });
    });
  keys
    .command('list')
    .description('every key this region knows, revoked ones included (never secrets)')
    .action(async () => {
      const { data } = await answer(api().GET('/v1/api-keys'));
      show(output(), data, (list) =>
        printTable(
          ['id', 'name', 'scopes', 'channel', 'region', 'created', 'revoked'],
          list.items.map((k) => [k.id, k.name, k.scopes.join(' '), k.channel, k.region, k.createdAt, k.revokedAt]),
        ),
      );
    });
  keys
    .command('revoke')
    .description('revokes a key in every region')
    .argument('<id>')
    .action(async (id: string) => {
      await answer(api().DELETE('/v1/api-keys/{id}', { params: { path: { id } } }));
      if (output().json) process.stdout.write(`${JSON.stringify({ id, revoked: true })}\n`);
      else process.stdout.write(`key ${id} revoked\n`);
    });
}
