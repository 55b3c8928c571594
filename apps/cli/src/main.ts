#!/usr/bin/env node
// `stockmesh`: the operator's command line over a region's public API (never its databases). See
// docs/operations.md#the-command-line; `stockmesh --help` and `stockmesh <command> --help` say the rest.
import { Command, CommanderError } from 'commander';
import { apiClient, apiKeyOf, CliError, type StockmeshApi } from './api-client.js';
import { benchCommand } from './commands/bench.command.js';
import { channelsCommand } from './commands/channels.command.js';
import { deadLettersCommand } from './commands/dead-letters.command.js';
import { keysCommand } from './commands/keys.command.js';
import { replicasCommand } from './commands/replicas.command.js';
import { shardsCommand } from './commands/shards.command.js';
import { reservationsCommand } from './commands/reservations.command.js';
import { statusCommand } from './commands/status.command.js';
import { stockCommand } from './commands/stock.command.js';
import { transfersCommand } from './commands/transfers.command.js';
import type { Output } from './output.js';

interface GlobalOptions {
  readonly url: string;
  readonly keyFile?: string;
  readonly json: boolean;
}

export function program(): Command {
  const root = new Command('stockmesh')
    .description('operate a stockmesh cluster through a region’s API')
    .option('--url <url>', 'the region to ask (env STOCKMESH_URL)', process.env.STOCKMESH_URL ?? 'http://127.0.0.1:3001')
    .option('--key-file <file>', 'a file holding the API key (else env STOCKMESH_API_KEY, else the local cluster’s admin key)')
    .option('--json', 'print the API’s answer as JSON', false)
    .showHelpAfterError()
    // Subcommands made after this inherit it: usage errors come back here, for exit code 2.
    .exitOverride();
  const options = (): GlobalOptions => root.opts<GlobalOptions>();
  const api = (): StockmeshApi => apiClient(options().url, apiKeyOf(options().keyFile));
  const output = (): Output => ({ json: options().json });
  statusCommand(root, api, output);
  stockCommand(root, api, output);
  reservationsCommand(root, api, output);
  transfersCommand(root, api, output);
  channelsCommand(root, api, output);
  keysCommand(root, api, output);
  deadLettersCommand(root, api, output);
  replicasCommand(root, api, output);
  shardsCommand(root, api, output);
  benchCommand(root, output);
  return root;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; commander has printed the usage error already.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliError) {
    process.stderr.write(`stockmesh: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    throw error;
  }
}
