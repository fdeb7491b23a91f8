// The Events bench (issue 10, point 4): what 5,000 Events about things the dashboard does
// not show (other pods, Deployments, Nodes, DeviceTemplates) cost it, on a real control
// plane (etcd + kube-apiserver, test/cluster/control-plane.ts). The dashboard runs in this
// process, as in the sessions bench, so its heap can be read after a full GC. "Without the
// selectors" is the Events watch as it was before them: one informer of every Event in the
// namespace, feeding a store of its own, started beside the dashboard over the same cluster.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { FarmStore } from '../../src/farm/store.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeCluster, loadKubeConfig } from '../../src/kube/kube-cluster.js';
import { toEventView } from '../../src/kube/slim.js';
import type { NewKubeObject } from '../../src/kube/types.js';
import type { EventView } from '../../src/farm/types.js';
import { startControlPlane } from '../cluster/control-plane.js';
import { runProvisionScript } from '../cluster/provision.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NAMESPACE = 'bench';
const GROUP = 'droidfarm.io/v1alpha1';

export interface EventsOptions {
  unrelated: number;
  /** Requests in flight while creating them. */
  concurrency: number;
  log: (line: string) => void;
}

export interface EventsResult {
  unrelated: number;
  createSeconds: number;
  versions: { kubeApiserver: string; etcd: string };
  /**
   * A dashboard started and synced before the unrelated Events exist, and one after: the
   * Events each holds and the heap it added (heapUsed after a full GC, minus before it).
   */
  before: { storeEvents: number; heapMB: number };
  after: { storeEvents: number; heapMB: number };
  /** The dashboard of `before`, once its watches brought the 5,000 and the marker. */
  liveEvents: number;
  /** The Events watch as it was without selectors: what it held and added. */
  unfiltered: { storeEvents: number; heapMB: number };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * heapUsed after a full GC, once idle keep-alive sockets (undici closes them after 4 s)
 * and their buffers are gone: what is reachable, not what the last requests left behind.
 */
async function heapAfterGc(): Promise<number> {
  await new Promise((r) => setTimeout(r, 5_000));
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const silent = { info: () => {}, warn: () => {}, error: () => {} };

export async function runEvents(o: EventsOptions): Promise<EventsResult> {
  const provisioned = await runProvisionScript('provision-control-plane.sh');
  const binaries = { etcd: provisioned.get('ETCD'), kubeApiserver: provisioned.get('KUBE_APISERVER'), kubectl: provisioned.get('KUBECTL'), kwok: provisioned.get('KWOK') };
  const cp = await startControlPlane({ binaries, crdDirs: [join(ROOT, 'deploy/crds')], log: (m) => o.log(`  ${m}`) });
  const cluster = new KubeCluster(loadKubeConfig({ kubeconfig: cp.adminKubeconfig }));
  try {
    await run(cp.kubectl, ['--kubeconfig', cp.adminKubeconfig, 'create', 'namespace', NAMESPACE]);
    await cluster.create('templates', NAMESPACE, { apiVersion: GROUP, kind: 'DeviceTemplate', metadata: { name: 'pixel-6' }, spec: { androidVersion: '14', avdProfile: 'pixel_6', emulationBackend: 'cuttlefish' } });
    await cluster.create('pools', NAMESPACE, { apiVersion: GROUP, kind: 'DevicePool', metadata: { name: 'farm' }, spec: { templateRef: { name: 'pixel-6' }, replicas: 1 } });
    await cluster.create('sessions', NAMESPACE, { apiVersion: GROUP, kind: 'TestSession', metadata: { name: 'runs' }, spec: { poolRef: { name: 'farm' } } });
    await cluster.patch('sessions', NAMESPACE, 'runs', { status: { phase: 'Running', podName: 'runs-runner' } }, { subresource: 'status' });
    const event = (name: string, about: { apiVersion: string; kind: string; name: string }, reason: string): NewKubeObject => {
      const at = new Date().toISOString();
      return {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name },
        involvedObject: { ...about, namespace: NAMESPACE },
        reason,
        message: `${reason}: a message of the length Kubernetes' own Events have, about ${about.kind}/${about.name}, repeated for size`,
        type: 'Normal',
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: 'kubelet', host: 'node-1' },
      };
    };
    await cluster.create('events', NAMESPACE, event('about-session', { apiVersion: GROUP, kind: 'TestSession', name: 'runs' }, 'Assigned'));
    await cluster.create('events', NAMESPACE, event('about-pool', { apiVersion: GROUP, kind: 'DevicePool', name: 'farm' }, 'Scaled'));
    await cluster.create('events', NAMESPACE, event('about-runner', { apiVersion: 'v1', kind: 'Pod', name: 'runs-runner' }, 'Pulled'));

    const config = loadConfig({ argv: ['--kubeconfig', cp.adminKubeconfig, '--namespace', NAMESPACE, '--log-level', 'silent'], env: { NODE_ENV: 'production' } })!;
    const until = async (what: string, probe: () => boolean, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!probe()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    /** A dashboard, started and synced: its Events, and the heap it added (after a full GC each side). */
    const dashboard = async (events: number) => {
      const base = await heapAfterGc();
      const app = await buildApp(config);
      await app.ready();
      await until(`a dashboard holding ${events} Events`, () => app.farm.store.syncStatus().synced && app.farm.store.eventCount() === events).catch((err: Error) => {
        throw new Error(`${err.message} (${JSON.stringify(app.farm.store.syncStatus())}, ${app.farm.store.eventCount()} Events)`);
      });
      return { app, storeEvents: app.farm.store.eventCount(), heapMB: await heapAfterGc() - base };
    };
    // Module caches, compiled templates and the JIT warm up once, outside the measurements.
    const warm = await dashboard(3);
    await warm.app.close();

    const before = await dashboard(3);
    o.log(`  before: ${before.storeEvents} Events in the store, the dashboard added ${before.heapMB.toFixed(1)} MB of heap`);
    let live: number;
    let createSeconds: number;
    try {
      o.log(`  creating ${o.unrelated} unrelated Events (${o.concurrency} at a time)…`);
      const kinds = [
        { apiVersion: 'v1', kind: 'Pod', name: 'web' },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        { apiVersion: 'v1', kind: 'Node', name: 'node' },
        { apiVersion: GROUP, kind: 'DeviceTemplate', name: 'pixel' },
      ];
      const createStart = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          for (let i = next++; i < o.unrelated; i = next++) {
            const about = kinds[i % kinds.length]!;
            await cluster.create('events', NAMESPACE, event(`unrelated-${i}`, { ...about, name: `${about.name}-${i}` }, 'Unrelated'));
          }
        }),
      );
      createSeconds = (performance.now() - createStart) / 1000;
      o.log(`  created in ${createSeconds.toFixed(0)} s`);
      // Written after all of them: once it is in the store, every watch is past the 5,000.
      await cluster.create('events', NAMESPACE, event('marker', { apiVersion: GROUP, kind: 'TestSession', name: 'runs' }, 'Progress'));
      await until('the marker Event', () => before.app.farm.store.eventsFor('TestSession', NAMESPACE, 'runs').some((e) => e.name === 'marker'));
      live = before.app.farm.store.eventCount();
      o.log(`  the running dashboard, through its watches: ${live} Events in the store`);
    } finally {
      await before.app.close();
    }

    const after = await dashboard(4);
    await after.app.close();
    o.log(`  after: a new dashboard listed ${after.storeEvents} Events and added ${after.heapMB.toFixed(1)} MB of heap`);

    const base = await heapAfterGc();
    const oldStore = new FarmStore();
    const informer = new Informer<EventView>({
      cluster,
      resource: 'events',
      namespace: NAMESPACE,
      log: silent,
      toView: toEventView,
      versionOf: (v) => v.resourceVersion,
      onChange: (c) => oldStore.applyEvent(c.type, c.view),
    });
    informer.start();
    await informer.whenSynced();
    const unfiltered = { storeEvents: oldStore.eventCount(), heapMB: await heapAfterGc() - base };
    informer.stop();
    o.log(`  the Events watch without selectors: ${unfiltered.storeEvents} Events, ${unfiltered.heapMB.toFixed(1)} MB of heap`);
    return {
      unrelated: o.unrelated,
      createSeconds,
      versions: { kubeApiserver: cp.versions.kubeApiserver, etcd: cp.versions.etcd },
      before: { storeEvents: before.storeEvents, heapMB: before.heapMB },
      liveEvents: live,
      after: { storeEvents: after.storeEvents, heapMB: after.heapMB },
      unfiltered,
    };
  } finally {
    await cluster.close();
    await cp.stop();
  }
}
