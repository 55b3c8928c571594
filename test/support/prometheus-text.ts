/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition: every sample, and the declared type of each metric family. */
export interface Exposition {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
  /** The samples named `name` whose labels include `labels`. */
  find(name: string, labels?: Readonly<Record<string, string>>): Sample[];
  /** The sum of those samples' values (0 when there are none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Sample names a family of each type may have besides its own name. */
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** The declared family a sample belongs to: its own name, or a histogram's or summary's with a suffix. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && (SUFFIXES[types.get(base) ?? ''] ?? []).includes(suffix)) return base;
  }
  return undefined;
}

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: a line that is not a comment, a
 * HELP or TYPE line, or a well-formed sample of a declared family throws, naming the line.
 */
/**
 * A sample's value as Prometheus reads it (Go's ParseFloat): NaN and Inf in any case, which
 * matters because prom-client writes `Nan` (a gauge with no samples yet, such as the event loop
 * lag right after start).
 */
function sampleValue(text: string): number | undefined {
  const word = text.toLowerCase();
  if (word === 'nan') return NaN;
  if (word === '+inf' || word === 'inf' || word === '+infinity' || word === 'infinity') return Infinity;
  if (word === '-inf' || word === '-infinity') return -Infinity;
  const value = Number(text);
  return text.trim() === '' || Number.isNaN(value) ? undefined : value;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    const fail = (why: string): never => {
      throw new Error(`exposition line ${i + 1}: ${why}: ${line}`);
    };
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = new RegExp(`^# TYPE (${NAME}) (\\w+)$`).exec(line);
      if (type) {
        if (!TYPES.has(type[2])) fail(`unknown type ${type[2]}`);
        if (types.has(type[1])) fail('a second TYPE line');
        types.set(type[1], type[2]);
      } else if (line.startsWith('# TYPE') || (line.startsWith('# HELP') && !new RegExp(`^# HELP ${NAME} `).test(line))) {
        fail('malformed HELP or TYPE line');
      }
      continue;
    }
    const match = SAMPLE.exec(line) ?? fail('not a sample');
    const [, name, labelText = '', valueText] = match;
    const labels: Record<string, string> = {};
    for (let rest = labelText; rest.length > 0;) {
      const label = LABEL.exec(rest) ?? fail('malformed labels');
      if (label[1] in labels) fail(`label ${label[1]} twice`);
      labels[label[1]] = label[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
      rest = rest.slice(label[0].length);
    }
    const value = sampleValue(valueText) ?? fail(`value ${valueText} is not a number`);
    const family = familyOf(name, types);
    if (family === undefined) fail('a sample of no declared family');
    samples.push({ name, labels, value });
  }
  const find = (name: string, labels: Readonly<Record<string, string>> = {}): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return { samples, types, find, sum: (name, labels) => find(name, labels).reduce((total, s) => total + s.value, 0) };
}
