// Nothing a stranger can start is unbounded, and what goes out is compressed: against the
// real API server, over real HTTP. Live streams are capped per client address (429) and in
// all (503), upstream log follows are capped (503), writes and 404s are rate-limited (429),
// each with Retry-After, a DF_ERR_* code and a figure in /metrics. Pages, JSON and CSS go
// out gzip or brotli to clients that accept it, the event streams never do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, appendPodLog, clusterInfo, freshNamespace, podLogFile, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The request's socket, for streams: destroy it to close. */
  close: () => void;
}

/** One HTTP request from a chosen local address; resolves at the headers when `stream` is set. */
function request(port: number, path: string, options: { method?: string; headers?: Record<string, string>; from?: string; stream?: boolean; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, localAddress: options.from ?? '127.0.0.1', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const answer = (): Answer => ({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), close: () => req.destroy() });
      if (options.stream && res.statusCode === 200) {
        res.once('data', (chunk: Buffer) => {
          chunks.push(chunk);
          resolve(answer());
        });
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(answer()));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorOf = (a: Answer) => (JSON.parse(a.body.toString()) as { error: { code: string; message: string } }).error;

function metric(text: string, line: string): number {
  const m = new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('limits and compression', () => {
  let namespace: string;
  let app: FastifyInstance;
  let port: number;
  const open: Answer[] = [];

  beforeAll(async () => {
    namespace = await freshNamespace('limits');
    await createTemplate(namespace);
    await createPool(namespace, 'big', 60);
    await setDevices(namespace, 'big', devices('big', 60));
    app = await startDashboard({
      namespaces: [namespace],
      args: ['--max-live-clients', '3', '--max-live-clients-per-address', '2', '--write-rate-limit', '3', '--not-found-rate-limit', '5', '--max-log-follows', '1'],
      logs: { retry: { initialMs: 100, maxMs: 400 } },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    await waitFor('pool synced', () => app.farm.store.getPool(namespace, 'big')?.devices.length === 60);
  });
  afterAll(async () => {
    for (const a of open) a.close();
    await app?.close();
  });

  it('caps live streams per client address (429) and in all (503), with Retry-After', async () => {
    const sse = { accept: 'text/event-stream' };
    open.push(await request(port, '/live?topic=farm', { headers: sse, stream: true }));
    open.push(await request(port, '/api/v1/events', { headers: sse, stream: true }));
    expect(open.map((a) => a.status)).toEqual([200, 200]);

    const third = await request(port, '/live?topic=pools', { headers: { ...sse, accept: 'application/json' } });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toMatch(/^\d+$/);
    expect(errorOf(third).code).toBe('DF_ERR_TOO_MANY_STREAMS');

    // Another address still gets one, until the total is reached.
    open.push(await request(port, '/live?topic=farm', { headers: sse, stream: true, from: '127.0.0.2' }));
    expect(open[2]!.status).toBe(200);
    const full = await request(port, '/api/v1/events', { headers: { accept: 'application/json' }, from: '127.0.0.2' });
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toMatch(/^\d+$/);
    expect(errorOf(full).code).toBe('DF_ERR_LIVE_FULL');

    // A closed stream frees its place.
    open.shift()!.close();
    await waitFor('the closed stream released', () => app.farm.admission.stats().open === 2);
    const again = await request(port, '/live?topic=farm', { headers: sse, stream: true });
    open.push(again);
    expect(again.status).toBe(200);

    const metrics = (await request(port, '/metrics')).body.toString();
    expect(metric(metrics, 'droidfarm_live_refused_total{reason="address"}')).toBe(1);
    expect(metric(metrics, 'droidfarm_live_refused_total{reason="total"}')).toBe(1);
    expect(metric(metrics, 'droidfarm_live_connections_limit{scope="total"}')).toBe(3);
    expect(metric(metrics, 'droidfarm_live_client_addresses')).toBe(2);
    // What the streams keep for reconnecting clients is reported too (docs/metrics.md).
    for (const line of ['droidfarm_live_replay_events{stream="pages"}', 'droidfarm_live_replay_bytes{stream="json"}', 'droidfarm_live_skipped_topics', 'droidfarm_live_snapshot_cache_bytes']) {
      expect(metric(metrics, line), line).toBeGreaterThanOrEqual(0);
    }
    for (const a of open.splice(0)) a.close();
    await waitFor('every stream released', () => app.farm.admission.stats().open === 0);
  });

  it('rate-limits writes and requests for pages that do not exist, per address', async () => {
    const write = () => request(port, '/api/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}' });
    for (let i = 0; i < 3; i++) expect((await write()).status).not.toBe(429);
    const limited = await write();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(errorOf(limited)).toMatchObject({ code: 'DF_ERR_RATE_LIMITED', message: expect.stringMatching(/at most 3 a minute/) });
    // Reads are not writes.
    expect((await request(port, `/api/v1/pools/${namespace}/big`, { headers: { accept: 'application/json' } })).status).toBe(200);

    for (let i = 0; i < 5; i++) expect((await request(port, `/no-such-page-${i}`)).status).toBe(404);
    const lost = await request(port, '/no-such-page', { headers: { accept: 'application/json' } });
    expect(lost.status).toBe(429);
    expect(errorOf(lost).code).toBe('DF_ERR_RATE_LIMITED');
    expect(lost.headers['retry-after']).toMatch(/^\d+$/);
    // Pages that exist are still served.
    expect((await request(port, `/pools/${namespace}/big`)).status).toBe(200);

    const metrics = (await request(port, '/metrics')).body.toString();
    expect(metric(metrics, 'droidfarm_rate_limited_total{kind="writes"}')).toBe(1);
    expect(metric(metrics, 'droidfarm_rate_limited_total{kind="not_found"}')).toBe(1);
  });

  it('caps upstream log follows (503 with Retry-After)', async () => {
    const pod = 'capped-runner';
    await appendPodLog(await podLogFile(namespace, pod, 'runner'), ['runner started']);
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace, body: { metadata: { name: pod }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: 'runner', image: 'example.invalid/runner:1' }] } } });
    await waitFor(`pod ${pod} to run`, async () => (await core.readNamespacedPod({ name: pod, namespace })).status?.phase === 'Running');
    await createSession(namespace, 'capped', { pool: 'big' });
    await setSessionStatus(namespace, 'capped', { phase: 'Running', podName: pod });
    await waitFor('the session seen', () => app.farm.store.getSession(namespace, 'capped')?.podName === pod);

    const path = `/api/v1/sessions/${namespace}/capped/logs?follow=true`;
    // A followed log is a stream too: never held back by a compressor.
    const first = await request(port, path, { stream: true, headers: { accept: 'text/plain', 'accept-encoding': 'gzip, br' } });
    open.push(first);
    expect(first.status).toBe(200);
    expect(first.headers['content-encoding']).toBeUndefined();
    expect(first.body.toString()).toContain('runner started');
    await waitFor('one upstream follow', () => app.farm.logs.stats().upstreams === 1);
    const second = await request(port, path, { headers: { accept: 'application/json' }, from: '127.0.0.3' });
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toMatch(/^\d+$/);
    expect(errorOf(second).code).toBe('DF_ERR_LOG_FOLLOWS_FULL');
    const metrics = (await request(port, '/metrics')).body.toString();
    expect(metric(metrics, 'droidfarm_log_upstreams_refused_total')).toBeGreaterThanOrEqual(1);
    expect(metric(metrics, 'droidfarm_log_upstreams_limit')).toBe(1);
    first.close();
    await waitFor('the follow closed', () => app.farm.logs.stats().upstreams === 0);
  });

  it('compresses pages, JSON and CSS for clients that accept it, never the event streams', async () => {
    const page = await request(port, `/pools/${namespace}/big`);
    expect(page.headers['content-encoding']).toBeUndefined();
    for (const [encoding, decode] of [
      ['gzip', zlib.gunzipSync],
      ['br', zlib.brotliDecompressSync],
    ] as const) {
      const zipped = await request(port, `/pools/${namespace}/big`, { headers: { 'accept-encoding': encoding } });
      expect(zipped.headers['content-encoding']).toBe(encoding);
      expect(zipped.headers.vary).toMatch(/accept-encoding/i);
      const html = decode(zipped.body).toString();
      expect(html).toContain('device-grid__');
      expect(zipped.body.length).toBeLessThan(page.body.length / 4);

      const json = await request(port, `/api/v1/pools/${namespace}/big`, { headers: { 'accept-encoding': encoding, accept: 'application/json' } });
      expect(json.headers['content-encoding']).toBe(encoding);
      expect(json.headers.vary).toMatch(/accept-encoding/i);
      expect(JSON.parse(decode(json.body).toString()).deviceList).toHaveLength(60);

      const css = page.body.toString().match(/href="(\/static\/app\.css[^"]*)"/)![1]!;
      const style = await request(port, css.replace(/&amp;/g, '&'), { headers: { 'accept-encoding': encoding } });
      expect(style.status).toBe(200);
      expect(style.headers['content-encoding']).toBe(encoding);
      expect(decode(style.body).toString()).toContain('{');
    }
    for (const path of ['/live?topic=farm', '/api/v1/events']) {
      const stream = await request(port, path, { headers: { accept: 'text/event-stream', 'accept-encoding': 'gzip, br' }, stream: true });
      open.push(stream);
      expect(stream.status).toBe(200);
      expect(stream.headers['content-encoding']).toBeUndefined();
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      // The first bytes are plain SSE, not a compressor's header waiting for more.
      expect(stream.body.toString()).toMatch(/^(retry|event|id|:)/);
      stream.close();
    }
  });
});
