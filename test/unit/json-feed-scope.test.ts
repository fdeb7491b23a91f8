// A signed-in person's JSON feed follows their scope while it is open: asked again when the
// answers it rests on expire, at once when their RBAC proved different (a 403 elsewhere
// forgets their cached reviews), and closed to everything while a refresh fails. Never
// asked per event, and once per person however many streams they hold (ScopeFollow).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView } from '../../src/kube/slim.js';
import { JsonFeed, type FeedVisible } from '../../src/live/json-feed.js';
import { ScopeFollow } from '../../src/http/scope-follow.js';
import { waitFor } from '../helpers/cluster.js';
import { openStream, type SseStream } from '../helpers/sse.js';

let rv = 0;
function pool(namespace: string, message: string) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: 'p', namespace, uid: `u-${namespace}`, resourceVersion: String(++rv), generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: 1 },
    status: { devices: [{ name: 'p-0', state: 'Idle', message }] },
  });
}

const only = (...namespaces: string[]): FeedVisible => ({ pools: new Set(namespaces), sessions: new Set(namespaces) });

describe('the JSON feed of a signed-in person', () => {
  const store = new FarmStore();
  const feed = new JsonFeed(store, { heartbeatMs: 60_000 });
  /** What the next refresh answers (a function, so a test can make it fail). */
  let answer: () => Promise<{ visible: FeedVisible; until: number }> = async () => ({ visible: only('a', 'b'), until: Date.now() + 60_000 });
  let asked = 0;
  const scopes = new ScopeFollow(() => (asked++, answer()));
  const dave = { user: 'dave', groups: ['qa'], via: 'proxy' as const };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    feed.connect(res, { visible: only('a', 'b'), follow: (onVisible) => scopes.follow(dave, Date.now() + 60_000, onVisible) }, undefined);
  });
  let stream: SseStream;
  let n = 0;

  /** A change in each namespace; whether the feed carried a's (b's always comes, after it). */
  async function carriesA(): Promise<boolean> {
    const tag = `change ${++n}`;
    store.applyPool('modified', pool('a', tag));
    store.applyPool('modified', pool('b', tag));
    await stream.next((e) => e.data.includes('"namespace":"b"') && e.data.includes(tag));
    return stream.events.some((e) => e.data.includes('"namespace":"a"') && e.data.includes(tag));
  }

  beforeAll(async () => {
    store.applyPool('added', pool('a', 'start'));
    store.applyPool('added', pool('b', 'start'));
    feed.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stream = await openStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await waitFor('the feed to hold the client', () => feed.clientCount === 1);
  });
  afterAll(async () => {
    stream?.close();
    feed.close();
    scopes.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('asks nothing per event, and again at once when their RBAC proved different', async () => {
    expect(await carriesA()).toBe(true);
    expect(await carriesA()).toBe(true);
    expect(asked).toBe(0);
    answer = async () => ({ visible: only('b'), until: Date.now() + 60_000 });
    scopes.forgot('someone-else');
    expect(asked).toBe(0);
    scopes.forgot('dave');
    await waitFor('the refresh to be asked', () => asked === 1);
    await waitFor("the feed to leave a's changes out", async () => !(await carriesA()));
    expect(asked).toBe(1);
  });

  it('sends nothing of the person while a refresh fails, and asks again after a while', async () => {
    answer = async () => {
      throw new Error('apiserver unreachable');
    };
    scopes.forgot('dave');
    await waitFor('the failed refresh', () => asked === 2);
    store.applyPool('modified', pool('b', 'while unsure'));
    const before = stream.events.length;
    await waitFor('the store change to be published', () => feed.stats().historyEvents > 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.events.slice(before).filter((e) => e.data.includes('while unsure'))).toEqual([]);
    answer = async () => ({ visible: only('a', 'b'), until: Date.now() + 60_000 });
    await waitFor('the retry to restore the scope', async () => asked >= 3 && (await carriesA()), { timeoutMs: 10_000 });
  });
});

describe('following a person\'s scope (ScopeFollow)', () => {
  const everything = { pools: undefined, sessions: undefined };

  it('refreshes once per person for all their streams, apart per groups, and stops with the last stream', async () => {
    const asked: string[] = [];
    const scopes = new ScopeFollow(async (who) => (asked.push(`${who.user}/${[...who.groups].join(',')}`), { visible: everything, until: Date.now() + 60_000 }));
    const heard: number[] = [];
    const erin = { user: 'erin', groups: ['dev'], via: 'proxy' as const };
    const stops = Array.from({ length: 100 }, (_, i) => scopes.follow(erin, Date.now() + 60_000, () => heard.push(i)));
    const admin = scopes.follow({ user: 'erin', groups: ['admins'], via: 'proxy' }, Date.now() + 60_000, () => heard.push(-1));
    expect(scopes.size).toBe(2);
    scopes.forgot('erin');
    await waitFor('both people to be asked again', () => heard.length === 101);
    expect(asked.sort()).toEqual(['erin/admins', 'erin/dev']);
    for (const stop of stops) stop();
    admin();
    expect(scopes.size).toBe(0);
    scopes.forgot('erin');
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toHaveLength(2);
  });

  it('asks again when the answers expire, and again after a 403 that came while it was asking', async () => {
    let release: (() => void) | undefined;
    let asked = 0;
    const scopes = new ScopeFollow(async () => {
      asked++;
      if (asked === 1) await new Promise<void>((resolve) => (release = resolve));
      return { visible: everything, until: Date.now() + 60_000 };
    });
    let heard = 0;
    // The answers it started with expire at once: asked after the floor of one second.
    const stop = scopes.follow({ user: 'frank', groups: [], via: 'bearer' }, Date.now(), () => heard++);
    await waitFor('the expiry refresh to start', () => asked === 1, { timeoutMs: 5_000 });
    scopes.forgot('frank'); // while the first refresh is in flight: it may have read the old answers
    release!();
    await waitFor('a second refresh after the first', () => asked === 2 && heard === 2);
    stop();
    scopes.close();
  });
});
