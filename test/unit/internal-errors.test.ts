// Failures caught inside the dashboard are never silent: each is logged at error level and
// counted in droidfarm_internal_errors_total{where}. A store subscriber that throws (a
// broker bug) no longer makes pages stop updating without a word, an informer's failing
// handler is counted, and missing built assets stop a production start.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assetVersion, ASSETS } from '../../src/app.js';
import { ConfigError } from '../../src/config.js';
import { FarmStore, type FarmChange } from '../../src/farm/store.js';
import { Informer } from '../../src/kube/informer.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import { toTemplateView } from '../../src/kube/slim.js';
import { Metrics } from '../../src/metrics/index.js';
import { InternalErrors } from '../../src/metrics/internal-errors.js';
import { waitFor } from '../helpers/cluster.js';

class CapturingLog {
  readonly lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  error(obj: object, msg: string): void {
    this.lines.push({ obj: obj as Record<string, unknown>, msg });
  }
}

const template = { namespace: 'farm', name: 'pixel-6', uid: 'u1', resourceVersion: '1', createdAt: 0, labels: {}, androidVersion: '14', avdProfile: 'pixel_6', backend: 'cuttlefish', cpu: '', memory: '', apps: [] } as never;

async function scrape(store: FarmStore): Promise<string> {
  const metrics = new Metrics({ store, streams: () => ({ pages: stream(), json: stream() }), watches: () => [] });
  try {
    return (await metrics.scrape()).body;
  } finally {
    metrics.close();
  }
}
const stream = () => ({ clients: 0, eventsSent: 0, deliveries: 0, dropped: 0, historyEvents: 0, historyBytes: 0 });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('internal errors', () => {
  it('logs and counts a store subscriber that throws, and the others still get the change', async () => {
    const log = new CapturingLog();
    const store = new FarmStore({ errors: new InternalErrors(log) });
    const seen: FarmChange[] = [];
    store.subscribe(() => {
      throw new Error('broker bug');
    });
    store.subscribe((c) => seen.push(c));
    store.applyTemplate('added', template);
    expect(seen).toHaveLength(1);
    expect(store.errors.count('store_subscriber')).toBe(1);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.msg).toMatch(/store subscriber failed/);
    expect(log.lines[0]!.obj).toMatchObject({ where: 'store_subscriber', change: 'template' });
    expect((log.lines[0]!.obj.err as Error).message).toBe('broker bug');
    const text = await scrape(store);
    expect(text).toContain('droidfarm_internal_errors_total{where="store_subscriber"} 1');
    // Every site is a series from the start, so an alert on increase() sees the first one.
    expect(text).toContain('droidfarm_internal_errors_total{where="live_render"} 0');
  });

  it('counts an informer change handler that throws, and the informer carries on', async () => {
    const cluster = new MemoryCluster();
    await cluster.create('templates', 'farm', { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DeviceTemplate', metadata: { name: 'a' }, spec: {} });
    const errors = new InternalErrors(new CapturingLog());
    const applied: string[] = [];
    const informer = new Informer({
      cluster,
      resource: 'templates',
      namespace: 'farm',
      log: { info: () => {}, warn: () => {}, error: () => {} },
      errors,
      toView: toTemplateView,
      versionOf: (v) => v.resourceVersion,
      onChange: (c) => {
        if (c.view.name === 'a') throw new Error('handler bug');
        applied.push(c.view.name);
      },
    });
    informer.start();
    try {
      await informer.whenSynced();
      expect(errors.count('informer_handler')).toBe(1);
      await cluster.create('templates', 'farm', { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DeviceTemplate', metadata: { name: 'b' }, spec: {} });
      await waitFor('the next change', () => applied.includes('b'));
    } finally {
      informer.stop();
      await cluster.close();
    }
  });

  it('refuses to start in production without the built assets, and says so in development', () => {
    const root = mkdtempSync(join(tmpdir(), 'df-assets-'));
    dirs.push(root);
    mkdirSync(join(root, 'public', 'vendor'), { recursive: true });
    for (const file of ASSETS.filter((f) => f !== 'app.css')) writeFileSync(join(root, 'public', file), 'x');
    const log = new CapturingLog();
    const errors = new InternalErrors(log);
    expect(() => assetVersion(true, errors, root)).toThrow(ConfigError);
    expect(() => assetVersion(true, errors, root)).toThrow(/public\/app\.css \(ENOENT\).*npm run build/);
    expect(assetVersion(false, errors, root)).toMatch(/^[0-9a-f]{10}$/);
    expect(errors.count('assets')).toBe(1);
    expect(log.lines[0]!.msg).toMatch(/built assets are missing/);
    // With every asset there, nothing is said.
    writeFileSync(join(root, 'public', 'app.css'), 'x');
    assetVersion(true, errors, root);
    expect(errors.count('assets')).toBe(1);
  });
});
