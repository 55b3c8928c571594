import { spawn } from 'node:child_process';

/** One command of a ```sh block of a Markdown file, as a reader would paste it. */
export interface ShellExample {
  /** The Markdown file, as given to `shellExamples`. */
  readonly file: string;
  /** 1-based line of the command's first line in the file. */
  readonly line: number;
  /** The command as written: continuation lines (`\` at the end) kept, for bash to join. */
  readonly command: string;
  /** The comment lines right above the command, without their `#`: what the file promises of it. */
  readonly comment: string;
}

/** The ```sh blocks of a Markdown file, each as the list of its commands. */
export function shellExamples(file: string, markdown: string): ShellExample[][] {
  const lines = markdown.split('\n');
  const blocks: ShellExample[][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```sh') continue;
    const block: ShellExample[] = [];
    let comment: string[] = [];
    for (i++; i < lines.length && lines[i].trim() !== '```'; i++) {
      const text = lines[i].trim();
      if (text === '') {
        comment = [];
      } else if (text.startsWith('#')) {
        comment.push(text.replace(/^#\s?/, ''));
      } else {
        const first = i;
        const parts = [lines[i]];
        while (/\\\s*$/.test(lines[i]) && i + 1 < lines.length) parts.push(lines[++i]);
        // A comment at the end of the command's last line counts when none stands above it.
        const trailing = /\s#\s+(.*)$/.exec(parts[parts.length - 1])?.[1];
        const said = comment.length > 0 ? comment.join(' ') : (trailing ?? '');
        block.push({ file, line: first + 1, command: parts.join('\n'), comment: said });
        comment = [];
      }
    }
    blocks.push(block);
  }
  return blocks;
}

/** The same command with bash's continuations joined, for messages. */
export function oneLine(command: string): string {
  return command.replace(/\\\s*\n\s*/g, ' ');
}

/**
 * Points an example at other regions: every `localhost:<port>` or `127.0.0.1:<port>` whose port
 * `ports` maps is replaced by the mapped `host:port`. A host and port it does not map is an error,
 * so that an example never reaches a cluster the caller did not mean (such as `npm start`'s).
 */
export function rewriteHosts(command: string, ports: ReadonlyMap<number, string>): string {
  return command.replace(/\b(?:localhost|127\.0\.0\.1):(\d+)\b/g, (found, port: string) => {
    const target = ports.get(Number(port));
    if (target === undefined) throw new RangeError(`no region to send ${found} to`);
    return target;
  });
}

/** How one example's command ended. */
export interface ShellOutcome {
  /** bash's exit status (curl's, for a curl command); `null` when it was killed. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The HTTP status of the last answer curl received, `undefined` if it got none. */
  readonly httpStatus: number | undefined;
}

const STATUS_LINE = 'stockmesh-example-http-status:';

/**
 * Every `curl` of the example reports the HTTP status of its answer on stderr, so stdout stays
 * exactly the body a reader sees. `-q` keeps a ~/.curlrc out of it; an example's own `-w` would
 * replace this one and is therefore not supported.
 */
const PRELUDE = `curl() { command curl -q --silent --show-error --max-time 30 --write-out '%{stderr}\\n${STATUS_LINE} %{http_code}\\n' "$@"; }\n`;

/**
 * Runs one example with bash, in an environment made of `env` alone (plus `PATH`): an example may
 * use a variable the caller provides (`Authorization: Bearer $STOCKMESH_KEY`), and one the caller
 * does not provide stops it (`bash -u`) instead of sending an empty value.
 */
export function runShellExample(
  command: string,
  env: Readonly<Record<string, string>>,
  options: { readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<ShellOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-u', '-o', 'pipefail', '-c', PRELUDE + command], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (exitCode) => {
      const statuses = [...stderr.matchAll(new RegExp(`^${STATUS_LINE} (\\d{3})$`, 'gm'))].map((m) => Number(m[1]));
      const last = statuses.at(-1);
      resolve({
        exitCode,
        stdout,
        stderr: stderr.replace(new RegExp(`^${STATUS_LINE} \\d{3}\\n?`, 'gm'), '').trim(),
        // curl writes 000 when no answer came at all.
        httpStatus: last === undefined || last === 0 ? undefined : last,
      });
    });
  });
}
