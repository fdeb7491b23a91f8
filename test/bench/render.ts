// Page render: GET /pools/:ns/:name of a pool with many devices, after warm-up, measured
// three ways: app.inject inside the server process (no sockets), and a real HTTP request over
// loopback, timed by the server (Fastify's reply.elapsedTime) and by the client (to the last
// byte). The client is this process, not the server's.
import http from 'node:http';
import { NAMESPACE, POOL } from './farm.js';
import { Child, serverEnv } from './proc.js';
import type { InjectResult, ServerReady } from './server.js';
import { summarise, type Summary } from './stats.js';

export interface RenderOptions {
  /** The server script: compiled JavaScript, or server.ts to run it under tsx. */
  serverScript: string;
  devices: number;
  warmup: number;
  count: number;
  production: boolean;
  log: (line: string) => void;
}

export interface RenderResult {
  devices: number;
  production: boolean;
  node: string;
  bytes: number;
  inject: Summary;
  injectCpuPerRender: number;
  httpServer: Summary;
  httpClient: Summary;
}

export async function runRender(options: RenderOptions): Promise<RenderResult> {
  const server = Child.start('server', options.serverScript, serverEnv({ NODE_ENV: options.production ? 'production' : 'development', BENCH_DEVICES: String(options.devices) }));
  try {
    const ready = (await server.notice('ready', 120_000)) as unknown as ServerReady;
    const path = `/pools/${NAMESPACE}/${POOL}`;
    // Generous: an unloaded machine needs a few ms per render, development mode tens.
    const budget = 60_000 + (options.warmup + options.count) * 500;
    const profiling = await server.call<boolean>('profileStart');
    const inject = await server.call<InjectResult>('inject', { url: path, warmup: options.warmup, count: options.count }, budget);

    await server.call('pageTimes'); // drop the injected requests' times

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const clientTimes: number[] = [];
    try {
      for (let i = 0; i < options.warmup + options.count; i++) {
        const t = performance.now();
        await get(agent, `http://127.0.0.1:${ready.port}${path}`);
        if (i >= options.warmup) clientTimes.push(performance.now() - t);
      }
    } finally {
      agent.destroy();
    }
    const serverTimes = (await server.call<number[]>('pageTimes')).slice(options.warmup);
    if (profiling) options.log(`  server profile: ${await server.call<string>('profileStop', { name: `render-${options.production ? 'production' : 'development'}` })}`);
    return {
      devices: options.devices,
      production: options.production,
      node: ready.node,
      bytes: inject.bytes,
      inject: summarise(inject.times),
      injectCpuPerRender: inject.cpuPerRender,
      httpServer: summarise(serverTimes),
      httpClient: summarise(clientTimes),
    };
  } finally {
    await server.stop();
  }
}

function get(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`GET ${url} answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url} took over 30 s`)));
    req.on('error', reject);
  });
}
