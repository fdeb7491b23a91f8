// Stop and Delete write only onto the session they read: against the real API server, a
// change that lands between the dashboard's read and its write (the operator finishing the
// session, someone deleting and re-creating it) makes the write a clear 409 that says what
// changed, and the write changes nothing. The race is provoked by a cluster that runs a
// hook right after the dashboard's read, through the admin's own client.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { describeError } from '../../src/http/errors.js';
import { KubeCluster, loadKubeConfig } from '../../src/kube/kube-cluster.js';
import type { ResourceName } from '../../src/kube/resources.js';
import type { KubeObject } from '../../src/kube/types.js';
import { SessionWriter } from '../../src/kube/session-writer.js';
import { adminKubeConfig, clusterInfo, freshNamespace } from '../helpers/cluster.js';
import { createPool, createSession, createTemplate, setSessionStatus } from '../helpers/farm.js';

const GROUP = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };

/** The real cluster, with a hook run once after the next get(): the race, made certain. */
class RacingCluster extends KubeCluster {
  afterRead: (() => Promise<void>) | undefined;
  override async get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject> {
    const read = await super.get(resource, namespace, name);
    const hook = this.afterRead;
    this.afterRead = undefined;
    await hook?.();
    return read;
  }
}

describe('Stop and Delete with preconditions, against the real API server', () => {
  let namespace: string;
  let cluster: RacingCluster;
  let actions: SessionWriter;
  const api = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
  const getSession = async (name: string) =>
    (await api().getNamespacedCustomObject({ ...GROUP, namespace, name })) as { metadata: { uid: string }; spec: { cancelRequested?: boolean }; status?: { phase?: string } };
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the write was refused').toBeDefined();
    return describeError(err);
  };

  beforeAll(async () => {
    namespace = await freshNamespace('preconditions');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 1);
    cluster = new RacingCluster(loadKubeConfig({ kubeconfig: clusterInfo().adminKubeconfig }));
    actions = new SessionWriter(cluster, new FarmStore(), [namespace]);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('does not stop a session that ended between the read and the write, and says so', async () => {
    await createSession(namespace, 'ends-meanwhile', { pool: 'alpha' });
    await setSessionStatus(namespace, 'ends-meanwhile', { phase: 'Running' });
    cluster.afterRead = () => setSessionStatus(namespace, 'ends-meanwhile', { phase: 'Succeeded' });
    const { status, body } = await refusal(actions.cancel(namespace, 'ends-meanwhile'));
    expect(status).toBe(409);
    expect(body.error.code).toBe('DF_ERR_KUBE_CONFLICT');
    expect(body.error.message).toBe('TestSession ends-meanwhile was not stopped: the session changed since you opened it (now Running → Succeeded); reload and try again.');
    // Nothing was written: a finished session never gets a stop request.
    const now = await getSession('ends-meanwhile');
    expect(now.spec.cancelRequested).not.toBe(true);
    expect(now.status?.phase).toBe('Succeeded');
  });

  it('does not delete a session that was deleted and created again meanwhile', async () => {
    await createSession(namespace, 'recreated', { pool: 'alpha' });
    await setSessionStatus(namespace, 'recreated', { phase: 'Failed' });
    const firstUid = (await getSession('recreated')).metadata.uid;
    cluster.afterRead = async () => {
      await api().deleteNamespacedCustomObject({ ...GROUP, namespace, name: 'recreated' });
      await createSession(namespace, 'recreated', { pool: 'alpha' });
      await setSessionStatus(namespace, 'recreated', { phase: 'Running' });
    };
    const { status, body } = await refusal(actions.delete(namespace, 'recreated'));
    expect(status).toBe(409);
    expect(body.error.code).toBe('DF_ERR_KUBE_CONFLICT');
    expect(body.error.message).toBe('TestSession recreated was not deleted: it was deleted and created again since you opened it (now Running); reload and try again.');
    // The new, running session is still there.
    const now = await getSession('recreated');
    expect(now.metadata.uid).not.toBe(firstUid);
    expect(now.status?.phase).toBe('Running');
  });

  it('does not delete a session whose status changed meanwhile', async () => {
    await createSession(namespace, 'updated', { pool: 'alpha' });
    await setSessionStatus(namespace, 'updated', { phase: 'Failed' });
    cluster.afterRead = () => setSessionStatus(namespace, 'updated', { phase: 'Failed', message: 'artifacts uploaded' });
    const { status, body } = await refusal(actions.delete(namespace, 'updated'));
    expect(status).toBe(409);
    expect(body.error.message).toContain('(still Failed, its spec or status was updated)');
    expect((await getSession('updated')).status?.phase).toBe('Failed');
  });

  it('says so when the session was deleted between the read and the write', async () => {
    await createSession(namespace, 'vanishes', { pool: 'alpha' });
    await setSessionStatus(namespace, 'vanishes', { phase: 'Running' });
    cluster.afterRead = async () => {
      await api().deleteNamespacedCustomObject({ ...GROUP, namespace, name: 'vanishes' });
    };
    const { status, body } = await refusal(actions.cancel(namespace, 'vanishes'));
    // The apiserver answers a patch of a missing object with 404; the dashboard's words for it.
    expect([404, 409]).toContain(status);
    expect(body.error.message).toMatch(/does not exist|deleted since you opened it/);
  });

  it('still stops and deletes when nothing changed in between', async () => {
    await createSession(namespace, 'calm', { pool: 'alpha' });
    await setSessionStatus(namespace, 'calm', { phase: 'Running' });
    const stopped = await actions.cancel(namespace, 'calm');
    expect((stopped.spec as { cancelRequested?: boolean }).cancelRequested).toBe(true);
    await setSessionStatus(namespace, 'calm', { phase: 'Cancelled' });
    await actions.delete(namespace, 'calm');
    await expect(getSession('calm')).rejects.toThrow(/404/);
  });
});
