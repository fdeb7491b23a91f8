// DNS rebinding and framing: with --allowed-host the dashboard answers only requests that
// name one of its host names (421 DF_ERR_MISDIRECTED otherwise, probes and /metrics
// exempt); --host is checked at start; the dashboard's own origin is refused as a stream
// origin. The whole app, on the in-memory cluster.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { hostAllowed } from '../../src/config-network.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';

const config = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv: ['--demo', '--log-level', 'silent', ...argv], env, fileExists: () => false })!;
const refusal = (argv: string[], env: Record<string, string> = {}) => {
  try {
    config(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(argv: string[]): Promise<FastifyInstance> {
  app = await buildApp(config(argv), { cluster: new MemoryCluster() });
  await app.ready();
  return app;
}

describe('--allowed-host', () => {
  it('serves requests naming an allowed host, with or without the port, in any case', async () => {
    const a = await start(['--allowed-host', 'dashboard.farm.example', '--allowed-host', 'localhost:8080']);
    for (const host of ['dashboard.farm.example', 'Dashboard.Farm.Example:443', 'dashboard.farm.example.', 'localhost:8080']) {
      const res = await a.inject({ url: '/api/v1/pools', headers: { host } });
      expect(res.statusCode, host).not.toBe(421);
    }
  });

  it('answers 421 DF_ERR_MISDIRECTED to any other Host, as JSON or as a page, and lists the names it serves', async () => {
    const a = await start(['--allowed-host', 'dashboard.farm.example', '--allowed-host', 'localhost:8080']);
    for (const host of ['evil.example', 'localhost:9999', 'localhost', '10.1.2.3:8080', 'dashboard.farm.example.evil.example']) {
      const res = await a.inject({ url: '/api/v1/pools', headers: { host } });
      expect(res.statusCode, host).toBe(421);
      expect(res.json()).toEqual({
        error: {
          code: 'DF_ERR_MISDIRECTED',
          message: `This dashboard answers only for dashboard.farm.example, localhost:8080, and this request named the host name ${JSON.stringify(host)}. Open the dashboard at one of those names; if this name is one of its addresses, add it with --allowed-host (DROIDFARM_ALLOWED_HOSTS).`,
        },
      });
    }
    const page = await a.inject({ url: '/', headers: { host: '<b>evil</b>.example', accept: 'text/html' } });
    expect(page.statusCode).toBe(421);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('DF_ERR_MISDIRECTED');
    expect(page.body).not.toContain('<b>evil</b>');
    // Writes too: nothing is done for a misdirected request.
    const write = await a.inject({ method: 'POST', url: '/api/v1/sessions', headers: { host: 'evil.example', 'content-type': 'application/json' }, payload: '{}' });
    expect(write.statusCode).toBe(421);
  });

  it('lets kubelet probes and Prometheus through whatever Host they name (the pod IP)', async () => {
    const a = await start(['--allowed-host', 'dashboard.farm.example']);
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const res = await a.inject({ url, headers: { host: '10.244.1.17:8080' } });
      expect(res.statusCode, url).not.toBe(421);
    }
  });

  it('answers every Host when not given, as before', async () => {
    const a = await start([]);
    const res = await a.inject({ url: '/api/v1/pools', headers: { host: 'anything.example' } });
    expect(res.statusCode).toBe(200);
  });

  it('reads the list from the environment, comma-separated, and refuses what is not a host name', () => {
    expect(config([], { DROIDFARM_ALLOWED_HOSTS: 'a.example, B.example:8443' }).allowedHosts).toEqual([
      { hostname: 'a.example', port: undefined },
      { hostname: 'b.example', port: '8443' },
    ]);
    expect(refusal(['--allowed-host', 'https://dashboard.example/'])).toMatch(/--allowed-host "https:\/\/dashboard.example\/" is not a host name: .*\(no scheme or path\)/);
    expect(refusal(['--allowed-host', 'a b'])).toMatch(/is not a host name/);
  });

  it('matches names as a Host header carries them', () => {
    const allowed = config(['--allowed-host', '[::1]:8080', '--allowed-host', 'dash.example']).allowedHosts;
    expect(hostAllowed('[::1]:8080', allowed)).toBe(true);
    expect(hostAllowed('[::1]:8081', allowed)).toBe(false);
    expect(hostAllowed('dash.example:80', allowed)).toBe(true);
    expect(hostAllowed(undefined, allowed)).toBe(false);
    expect(hostAllowed('dash.example@evil.example', allowed)).toBe(false);
    expect(hostAllowed('dash.example/x', allowed)).toBe(false);
  });
});

describe('--host', () => {
  it('accepts IP addresses and host names', () => {
    for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'dashboard.internal']) expect(config(['--host', host]).host).toBe(host);
  });

  it('refuses anything else at start with a message that says what to write', () => {
    expect(refusal(['--host', 'http://0.0.0.0'])).toBe('--host "http://0.0.0.0" is not an IP address or a host name. Give the address only: no scheme, port (use --port) or path. Examples: 0.0.0.0 (every interface), 127.0.0.1 (this machine only), :: (IPv6).');
    expect(refusal(['--host', '0.0.0.0:8080'])).toMatch(/no scheme, port \(use --port\) or path/);
    expect(refusal(['--host', '[::1]'])).toMatch(/without brackets, e.g. --host ::1/);
    expect(refusal([], { HOST: 'local host' })).toMatch(/^HOST "local host" is not an IP address or a host name/);
  });
});

describe('the dashboard’s own origin as a stream origin', () => {
  it('is refused when it is an allowed host name', () => {
    expect(refusal(['--allowed-host', 'dashboard.farm.example', '--stream-origin', 'https://dashboard.farm.example'])).toBe(
      "--stream-origin https://dashboard.farm.example is the dashboard's own origin (--allowed-host dashboard.farm.example): a stream page framed from it could lift its sandbox and act as the dashboard. Serve device streams from another host name.",
    );
  });

  it('is refused when it is the address and port the dashboard listens at', () => {
    expect(refusal(['--allow-http-streams', '--stream-origin', 'http://localhost:8080'])).toMatch(/is the dashboard's own origin \(--host 0.0.0.0 --port 8080\)/);
    expect(refusal(['--allow-http-streams', '--host', '127.0.0.1', '--port', '9000', '--stream-origin', 'http://127.0.0.1:9000'])).toMatch(/own origin/);
  });

  it('is accepted from another host name or port', () => {
    expect(config(['--allowed-host', 'dashboard.farm.example', '--stream-origin', 'https://streams.farm.example']).streamOrigins).toEqual(['https://streams.farm.example']);
    expect(config(['--allowed-host', 'dashboard.farm.example:443', '--stream-origin', 'https://dashboard.farm.example:8443']).streamOrigins).toEqual(['https://dashboard.farm.example:8443']);
    expect(config(['--allow-http-streams', '--stream-origin', 'http://localhost:9090']).streamOrigins).toEqual(['http://localhost:9090']);
  });
});
