// The one command-line reader of both programs (the dashboard and `npm run simulate`):
// flags declared once with their environment variable and help text, parsed strictly, and
// every bad value answered with a ConfigError that names the flag (or variable) to fix.
import { parseArgs } from 'node:util';

export class ConfigError extends Error {
  readonly code = 'DF_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface FlagDef {
  type: 'string' | 'boolean';
  /** Repeatable; the environment variable, if any, is comma-separated. */
  multiple?: boolean;
  /** The environment variable read when the flag is not given. */
  env?: string | undefined;
  help: string;
}

export type FlagDefs = Record<string, FlagDef>;

/** What was given, by flag or by environment variable (flags win), with typed readers. */
export interface Flags<N extends string> {
  /** Whether --help was asked. */
  help: boolean;
  str(name: N): string | undefined;
  list(name: N): string[];
  bool(name: N): boolean;
  /** How to name where a value came from in a message: `--port` or `PORT`. */
  source(name: N): string;
  /** A number in [min, max] (or (min, max] with `above`), else a ConfigError naming the flag. */
  number(name: N, fallback: number, range: { min: number; max: number; integer?: boolean; above?: boolean }): number;
}

export function parseFlags<D extends FlagDefs>(argv: string[], env: NodeJS.ProcessEnv, defs: D): Flags<Extract<keyof D, string>> {
  type N = Extract<keyof D, string>;
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, { type: d.type, multiple: d.multiple === true }]));
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run with --help to see the flags.`);
  }
  const fromEnv = (name: N): string | undefined => {
    const e = defs[name]!.env;
    return e && env[e] !== undefined && env[e] !== '' ? env[e] : undefined;
  };
  const flags: Flags<N> = {
    help: values.help === true,
    str(name) {
      const v = values[name];
      return typeof v === 'string' ? v : fromEnv(name);
    },
    list(name) {
      const v = values[name];
      if (Array.isArray(v)) return v.flatMap(splitList);
      const raw = fromEnv(name);
      return raw ? splitList(raw) : [];
    },
    bool(name) {
      if (values[name] === true) return true;
      const raw = fromEnv(name);
      if (raw === undefined) return false;
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${defs[name]!.env}=${raw} is not a boolean: use true or false.`);
    },
    source(name) {
      return values[name] !== undefined || !defs[name]!.env ? `--${name}` : defs[name]!.env!;
    },
    number(name, fallback, { min, max, integer, above }) {
      const raw = flags.str(name);
      if (raw === undefined) return fallback;
      const n = /^\s*$/.test(raw) ? NaN : Number(raw);
      if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n > max || (above ? n <= min : n < min)) {
        const range = above ? `above ${min} and at most ${max}` : `from ${min} to ${max}`;
        throw new ConfigError(`${flags.source(name)} ${JSON.stringify(raw)} is not valid: use ${integer ? 'a whole number' : 'a number'} ${range}.`);
      }
      return n;
    },
  };
  return flags;
}

/** `--help`: the usage line, then one line per flag with its environment variable. */
export function flagHelp(usage: string, defs: FlagDefs): string {
  const width = Math.max(...Object.keys(defs).map((n) => n.length)) + 2;
  const lines = [`Usage: ${usage}`, ''];
  for (const [name, d] of Object.entries(defs)) lines.push(`  --${name.padEnd(width)} ${d.help}${d.env ? ` (env ${d.env})` : ''}`);
  return lines.join('\n');
}

/** KUBECONFIG may list several files; the first must exist, as kubectl requires. */
export function checkKubeconfig(kubeconfig: string, fileExists: (path: string) => boolean, fix: string): void {
  const first = kubeconfig.split(':').find(Boolean);
  if (!first || !fileExists(first)) throw new ConfigError(`kubeconfig ${JSON.stringify(kubeconfig)} does not exist: ${fix}.`);
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
