// One typed configuration from command-line flags and environment variables (flags win).
// Everything is validated here, at start-up, so a bad setting stops the process with a
// message that says which flag or variable to fix, instead of failing later at random.
// Host names, origins and proxy CIDRs are in config-network.ts. A little over 300 lines
// because OPTIONS, the one list of every flag (mirrored by the README's table), is 75 of them.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkKubeconfig, ConfigError, flagHelp, parseFlags } from './flags.js';
import { isDnsLabel } from './kube/names.js';
import { ownOrigin, parseAllowedHost, parseCidr, parseHost, parseOrigin, type AllowedHost } from './config-network.js';

export type ClusterSource =
  | { mode: 'kubeconfig'; kubeconfig: string | undefined; context: string | undefined }
  | { mode: 'in-cluster' }
  | { mode: 'demo'; reason: 'forced' | 'no-cluster' };

export interface Config {
  host: string;
  port: number;
  cluster: ClusterSource;
  /** Namespaces to watch; empty means all namespaces. */
  namespaces: string[];
  /**
   * The Host names (lowercase, optionally with a port) requests must name, against DNS
   * rebinding; empty: any. Probes and /metrics are exempt (kubelet and Prometheus use the pod IP).
   */
  allowedHosts: AllowedHost[];
  /** Origins (scheme://host[:port]) whose device stream pages may be embedded. */
  streamOrigins: string[];
  /** Origins (scheme://host[:port]) that artifact download links may point to; never framed. */
  linkOrigins: string[];
  /** Allow http:// stream and artifact URLs (only for labs without TLS). */
  allowHttpStreams: boolean;
  /** Hide and refuse every write action. */
  readOnly: boolean;
  /** Show the values of runner env variables (they may hold secrets); names are always shown. */
  showRunnerEnv: boolean;
  /** Seconds between SIGTERM (readiness fails) and closing the listener. */
  shutdownDelaySeconds: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** pretty: lines for a person (the default in a terminal); json: one object a line for log collectors. */
  logFormat: 'json' | 'pretty';
  /** Production mode caches templates and hides error details. */
  production: boolean;
  /** What a stranger can start, at most (docs/metrics.md shows how close each is). */
  limits: Limits;
  /** Stream frames a device wall shows at most (/pools/:ns/:name/wall). */
  wallSize: number;
  /** Who acts: nobody in particular (none), a trusted proxy's headers, or a Kubernetes token. */
  auth: AuthConfig;
}

export type AuthMode = 'none' | 'proxy' | 'bearer';

export interface AuthConfig {
  mode: AuthMode;
  /** Addresses (CIDRs) whose identity headers are believed; from anywhere else they are stripped. */
  trustedProxies: string[];
  /** Header names, lowercase, as Node gives them. */
  userHeader: string;
  groupsHeader: string;
  emailHeader: string;
}

export interface Limits {
  /** Live streams (/live and /api/v1/events) open at once, in all and from one client address. */
  liveClients: number;
  liveClientsPerAddress: number;
  /** Upstream runner-log follows (pods/log requests) open at once. */
  logFollows: number;
  /** Writes (POST, PUT, PATCH, DELETE) and requests for pages that do not exist, per client address per minute. */
  writesPerMinute: number;
  notFoundPerMinute: number;
}

export { ConfigError };

/** The flags, their environment variables and their help text: the README table follows this. */
export const OPTIONS = {
  port: { type: 'string', env: 'PORT', help: 'HTTP port to listen on (default 8080)' },
  host: { type: 'string', env: 'HOST', help: 'address to bind: an IP address or a host name (default 0.0.0.0)' },
  'allowed-host': {
    type: 'string',
    multiple: true,
    env: 'DROIDFARM_ALLOWED_HOSTS',
    help: 'host name (optionally :port) the dashboard answers for, e.g. dashboard.farm.example; repeatable; others get 421 (DNS rebinding); default any',
  },
  kubeconfig: { type: 'string', env: 'KUBECONFIG', help: 'path to a kubeconfig file' },
  context: { type: 'string', env: 'DROIDFARM_CONTEXT', help: 'kubeconfig context to use' },
  namespace: {
    type: 'string',
    multiple: true,
    env: 'DROIDFARM_NAMESPACES',
    help: 'namespace to watch; repeat the flag (env: comma-separated); default all',
  },
  demo: { type: 'boolean', env: 'DROIDFARM_DEMO', help: 'run the embedded demo farm even if a cluster is configured' },
  'stream-origin': {
    type: 'string',
    multiple: true,
    env: 'DROIDFARM_STREAM_ORIGINS',
    help: 'origin whose device streams may be embedded, e.g. https://streams.farm.example; repeatable',
  },
  'link-origin': {
    type: 'string',
    multiple: true,
    env: 'DROIDFARM_LINK_ORIGINS',
    help: 'origin that artifact download links may point to, e.g. https://artifacts.farm.example; repeatable; never framed',
  },
  'allow-http-streams': {
    type: 'boolean',
    env: 'DROIDFARM_ALLOW_HTTP_STREAMS',
    help: 'also allow http:// stream and artifact URLs',
  },
  'read-only': { type: 'boolean', env: 'DROIDFARM_READ_ONLY', help: 'hide and refuse every write action' },
  'show-runner-env': {
    type: 'boolean',
    env: 'DROIDFARM_SHOW_RUNNER_ENV',
    help: "show the values of sessions' runner env variables (they may hold secrets); by default only their names",
  },
  'shutdown-delay': {
    type: 'string',
    env: 'DROIDFARM_SHUTDOWN_DELAY',
    help: 'seconds to keep serving after SIGTERM with /readyz failing, so load balancers stop sending first (default 0; 5 in deploy/)',
  },
  'max-live-clients': { type: 'string', env: 'DROIDFARM_MAX_LIVE_CLIENTS', help: 'live streams open at once, pages and JSON together (default 20000)' },
  'max-live-clients-per-address': {
    type: 'string',
    env: 'DROIDFARM_MAX_LIVE_CLIENTS_PER_ADDRESS',
    help: 'live streams open at once from one client address (default 200; a proxy in front makes that its address: see README)',
  },
  'max-log-follows': { type: 'string', env: 'DROIDFARM_MAX_LOG_FOLLOWS', help: 'runner-log requests to the API server open at once (default 200)' },
  'write-rate-limit': { type: 'string', env: 'DROIDFARM_WRITE_RATE_LIMIT', help: 'writes per client address per minute (default 60)' },
  'not-found-rate-limit': { type: 'string', env: 'DROIDFARM_NOT_FOUND_RATE_LIMIT', help: 'requests for pages that do not exist per client address per minute (default 300)' },
  auth: {
    type: 'string',
    env: 'DROIDFARM_AUTH',
    help: 'who acts: none (default; everyone acts as the dashboard), proxy (identity headers from --trusted-proxy) or bearer (Kubernetes tokens, checked with a TokenReview)',
  },
  'trusted-proxy': {
    type: 'string',
    multiple: true,
    env: 'DROIDFARM_TRUSTED_PROXIES',
    help: 'address or CIDR whose identity headers are believed; repeatable (env: comma-separated); default loopback (a sidecar in the pod)',
  },
  'user-header': { type: 'string', env: 'DROIDFARM_USER_HEADER', help: 'header with the user name from the proxy (default X-Forwarded-User)' },
  'groups-header': { type: 'string', env: 'DROIDFARM_GROUPS_HEADER', help: 'header with the comma-separated groups from the proxy (default X-Forwarded-Groups)' },
  'email-header': { type: 'string', env: 'DROIDFARM_EMAIL_HEADER', help: 'header with the e-mail from the proxy (default X-Forwarded-Email)' },
  'wall-size': { type: 'string', env: 'DROIDFARM_WALL_SIZE', help: 'stream frames a device wall shows at most, 1 to 48 (default 12)' },
  'log-level': { type: 'string', env: 'LOG_LEVEL', help: 'fatal, error, warn, info (default), debug, trace or silent' },
  'log-format': { type: 'string', env: 'LOG_FORMAT', help: 'pretty (default in a terminal) or json (default otherwise, for log collectors)' },
  help: { type: 'boolean', env: undefined, help: 'print this help and exit' },
} as const;

type OptionName = keyof typeof OPTIONS;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;
const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function helpText(): string {
  return flagHelp('droidfarm-dashboard [flags]', OPTIONS);
}

export interface Environment {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Where ~/.kube/config is looked for; injectable for tests. */
  home?: string;
  fileExists?: (path: string) => boolean;
  /** Whether the log goes to a terminal (picks the default --log-format); injectable for tests. */
  stdoutIsTTY?: boolean;
}

/** Parses and validates; throws ConfigError. Returns null when --help was asked. */
export function loadConfig({ argv, env, home = homedir(), fileExists = existsSync, stdoutIsTTY = process.stdout.isTTY === true }: Environment): Config | null {
  const flags = parseFlags(argv, env, OPTIONS);
  if (flags.help) return null;
  const { str, list, bool } = flags;

  const port = parsePort(str('port') ?? '8080', flags.source('port'));
  const host = parseHost(str('host') ?? '0.0.0.0', flags.source('host'));
  const allowedHosts = list('allowed-host').map(parseAllowedHost);

  const namespaces = [...new Set(list('namespace'))];
  for (const ns of namespaces) {
    if (!isDnsLabel(ns)) {
      throw new ConfigError(`--namespace ${JSON.stringify(ns)} is not a valid namespace name (lowercase letters, digits and '-', at most 63).`);
    }
  }

  const streamOrigins = list('stream-origin').map((o) => parseOrigin(o, '--stream-origin'));
  const linkOrigins = [...new Set(list('link-origin').map((o) => parseOrigin(o, '--link-origin')))];
  const allowHttpStreams = bool('allow-http-streams');
  for (const [flag, origins] of [['--stream-origin', streamOrigins], ['--link-origin', linkOrigins]] as const) {
    for (const origin of origins) {
      if (origin.startsWith('http:') && !allowHttpStreams) {
        throw new ConfigError(`${flag} ${origin} is plain http: use https, or add --allow-http-streams for a lab without TLS.`);
      }
    }
  }

  const logLevel = (str('log-level') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`--log-level ${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}.`);
  }

  const logFormat = (str('log-format') ?? (stdoutIsTTY ? 'pretty' : 'json')) as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError(`--log-format ${JSON.stringify(logFormat)} is not one of ${LOG_FORMATS.join(', ')}.`);
  }

  const kubeconfig = str('kubeconfig');
  const context = str('context');
  let cluster: ClusterSource;
  if (bool('demo')) {
    cluster = { mode: 'demo', reason: 'forced' };
  } else if (kubeconfig !== undefined) {
    checkKubeconfig(kubeconfig, fileExists, 'fix --kubeconfig / KUBECONFIG, or unset it to run the embedded demo');
    cluster = { mode: 'kubeconfig', kubeconfig, context };
  } else if (env.KUBERNETES_SERVICE_HOST && fileExists(IN_CLUSTER_TOKEN)) {
    if (context) throw new ConfigError('--context needs a kubeconfig, but the dashboard is running in-cluster with its service account.');
    cluster = { mode: 'in-cluster' };
  } else if (fileExists(join(home, '.kube', 'config'))) {
    cluster = { mode: 'kubeconfig', kubeconfig: undefined, context };
  } else {
    if (context) throw new ConfigError(`--context ${context} was given but no kubeconfig was found: pass --kubeconfig.`);
    cluster = { mode: 'demo', reason: 'no-cluster' };
  }

  // A device stream page in a frame may run scripts and keep its origin (the sandbox allows
  // both, which WebRTC pages need): from the dashboard's own origin it could lift its own
  // sandbox and act as the dashboard. (The demo's stand-in pages below are static, CSP-sandboxed.)
  for (const origin of streamOrigins) {
    const own = ownOrigin(origin, { host, port, allowedHosts });
    if (own) {
      throw new ConfigError(
        `--stream-origin ${origin} is the dashboard's own origin (${own}): a stream page framed from it could lift its sandbox and act as the dashboard. Serve device streams from another host name.`,
      );
    }
  }

  // The demo's stand-in stream pages are served by the dashboard itself.
  if (cluster.mode === 'demo' && streamOrigins.length === 0) streamOrigins.push("'self'");
  // And so are its artifacts (src/routes/demo), which its sessions link to.
  if (cluster.mode === 'demo' && linkOrigins.length === 0) linkOrigins.push("'self'");

  return {
    host,
    port,
    allowedHosts,
    cluster,
    namespaces,
    streamOrigins,
    linkOrigins,
    allowHttpStreams,
    readOnly: bool('read-only'),
    showRunnerEnv: bool('show-runner-env'),
    shutdownDelaySeconds: parseSeconds(str('shutdown-delay') ?? '0', flags.source('shutdown-delay')),
    logLevel,
    logFormat,
    production: env.NODE_ENV === 'production',
    limits: parseLimits(str),
    auth: parseAuth(str, list),
    wallSize: parseWallSize(str('wall-size')),
  };
}

function parseWallSize(raw: string | undefined): number {
  if (raw === undefined) return 12;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > 48) throw new ConfigError(`--wall-size ${raw} is not valid: use a whole number from 1 to 48 (each frame is a live video stream).`);
  return Number(raw);
}

const AUTH_MODES: readonly AuthMode[] = ['none', 'proxy', 'bearer'];
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Loopback: the proxy is a sidecar in the same pod (deploy/overlays/oauth2-proxy). */
export const LOOPBACK = ['127.0.0.0/8', '::1/128'];

function parseAuth(str: (name: OptionName) => string | undefined, list: (name: OptionName) => string[]): AuthConfig {
  const mode = (str('auth') ?? 'none') as AuthMode;
  if (!AUTH_MODES.includes(mode)) throw new ConfigError(`--auth ${JSON.stringify(mode)} is not one of ${AUTH_MODES.join(', ')}.`);
  const proxies = list('trusted-proxy');
  for (const cidr of proxies) {
    if (!parseCidr(cidr)) throw new ConfigError(`--trusted-proxy ${JSON.stringify(cidr)} is not an address or CIDR: use e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128.`);
  }
  const header = (name: 'user-header' | 'groups-header' | 'email-header', fallback: string): string => {
    const raw = str(name) ?? fallback;
    if (!HEADER_NAME.test(raw)) throw new ConfigError(`--${name} ${JSON.stringify(raw)} is not a header name (letters, digits and '-').`);
    if (/^(impersonate-|authorization$|cookie$|host$)/i.test(raw)) throw new ConfigError(`--${name} ${raw} cannot carry an identity: pick the header your proxy sets, e.g. ${fallback}.`);
    return raw.toLowerCase();
  };
  return {
    mode,
    trustedProxies: proxies.length ? proxies : LOOPBACK,
    userHeader: header('user-header', 'X-Forwarded-User'),
    groupsHeader: header('groups-header', 'X-Forwarded-Groups'),
    emailHeader: header('email-header', 'X-Forwarded-Email'),
  };
}

function parseLimits(str: (name: OptionName) => string | undefined): Limits {
  const count = (name: OptionName, fallback: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new ConfigError(`--${name} ${raw} is not valid: use a whole number of at least 1.`);
    return Number(raw);
  };
  return {
    liveClients: count('max-live-clients', 20_000),
    liveClientsPerAddress: count('max-live-clients-per-address', 200),
    logFollows: count('max-log-follows', 200),
    writesPerMinute: count('write-rate-limit', 60),
    notFoundPerMinute: count('not-found-rate-limit', 300),
  };
}

function parsePort(raw: string, source: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(`${source}=${raw} is not a port: use a number from 0 to 65535.`);
  }
  return Number(raw);
}

function parseSeconds(raw: string, source: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 60) {
    throw new ConfigError(`${source}=${raw} is not valid: use whole seconds from 0 to 60 (keep it below the pod's terminationGracePeriodSeconds).`);
  }
  return Number(raw);
}
