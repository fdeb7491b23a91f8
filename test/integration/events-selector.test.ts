// The dashboard keeps only the Events its pages show: those about TestSessions, DevicePools
// and the farm's runner pods. Against the real API server, 5,000 Events about other things
// in the same namespace (other pods, Deployments, Nodes, DeviceTemplates) reach neither
// the store nor its pages, while the farm's own Events still arrive live, and a runner
// pod's Events recorded before its session named the pod show up once it does.
import { CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/kube/kube-cluster.js';
import { adminKubeConfig, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, setSessionStatus } from '../helpers/farm.js';

const UNRELATED = 5_000;
const CONCURRENCY = 32;

type Involved = { apiVersion: string; kind: string; name: string };

describe('Events: only what the pages show, against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  const core = () => adminKubeConfig().makeApiClient(CoreV1Api);
  // The project's own client: one keep-alive connection pool for the 5,000 writes.
  const writer = new KubeCluster(adminKubeConfig());
  const recordAbout = async (name: string, about: Involved, reason = 'Noticed') => {
    const at = new Date().toISOString();
    await writer.create('events', namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { ...about, namespace },
      reason,
      message: `${reason} ${about.kind}/${about.name}`,
      type: 'Normal',
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
        source: { component: 'test' },
    });
  };
  const farmEvents = () => app.farm.store.eventCount();

  beforeAll(async () => {
    namespace = await freshNamespace('events-sel');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 1);
    await createSession(namespace, 'runs', { pool: 'alpha' });
    await setSessionStatus(namespace, 'runs', { phase: 'Running', podName: 'runs-runner' });
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the dashboard synced', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'runs')?.podName === 'runs-runner');
  });
  afterAll(async () => {
    await app?.close();
    await writer.close();
  });

  it('keeps none of 5,000 unrelated Events, and still gets the farm’s own', async () => {
    await recordAbout('about-session', { apiVersion: 'droidfarm.io/v1alpha1', kind: 'TestSession', name: 'runs' }, 'Assigned');
    await recordAbout('about-pool', { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DevicePool', name: 'alpha' }, 'Scaled');
    await recordAbout('about-runner', { apiVersion: 'v1', kind: 'Pod', name: 'runs-runner' }, 'Pulled');
    await waitFor('the farm’s three Events in the store', () => farmEvents() === 3);

    // Other pods' Events (the bulk on a real cluster), and other kinds', 32 requests at a time.
    const kinds: Involved[] = [
      { apiVersion: 'v1', kind: 'Pod', name: 'web' },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
      { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DeviceTemplate', name: 'pixel-6' },
    ];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < UNRELATED; i = next++) {
          const about = kinds[i % kinds.length]!;
          await recordAbout(`unrelated-${i}`, { ...about, name: `${about.name}-${i}` }, 'Unrelated');
        }
      }),
    );
    const listed = await core().listNamespacedEvent({ namespace });
    expect(listed.items.length).toBe(UNRELATED + 3);

    // A farm Event written after all of them: once it is in, the watches are past the 5,000.
    await recordAbout('after', { apiVersion: 'droidfarm.io/v1alpha1', kind: 'TestSession', name: 'runs' }, 'Progress');
    await waitFor('the Event written last', () => app.farm.store.eventsFor('TestSession', namespace, 'runs').some((e) => e.name === 'after'), { timeoutMs: 30_000 });
    expect(farmEvents()).toBe(4);
    expect(app.farm.store.eventsFor('Pod', namespace, 'runs-runner').map((e) => e.reason)).toEqual(['Pulled']);

    // The session page shows the farm's Events and none of the others.
    const page = await app.inject({ method: 'GET', url: `/sessions/${namespace}/runs` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Pulled');
    expect(page.body).not.toContain('Unrelated');
  }, 180_000);

  it('shows a runner pod’s earlier Events once its session names the pod', async () => {
    await createSession(namespace, 'late', { pool: 'alpha' });
    await recordAbout('late-scheduled', { apiVersion: 'v1', kind: 'Pod', name: 'late-runner' }, 'Scheduled');
    await waitFor('the store to see the session', () => app.farm.store.getSession(namespace, 'late') !== undefined);
    // No session names the pod yet: its Event is not kept.
    expect(app.farm.store.eventsFor('Pod', namespace, 'late-runner')).toEqual([]);
    await setSessionStatus(namespace, 'late', { phase: 'Running', podName: 'late-runner' });
    await waitFor('the runner pod’s earlier Event', () => app.farm.store.eventsFor('Pod', namespace, 'late-runner').length === 1);
    // And the ones after it arrive through the watch.
    await recordAbout('late-started', { apiVersion: 'v1', kind: 'Pod', name: 'late-runner' }, 'Started');
    await waitFor('the runner pod’s next Event', () => app.farm.store.eventsFor('Pod', namespace, 'late-runner').length === 2);
  });
});
