// A device page's view model: the device's facts, its stream and Appium URLs under the URL
// policy, its session, the lease that holds it and the leases waiting for it, and the
// questions Restart and Release ask.
import { isHeartbeatStale } from '../farm/devices.js';
import { extendedTimeout, isClaim, leaseEndsAt } from '../farm/lease.js';
import type { FarmStore } from '../farm/store.js';
import type { DeviceView, SessionView } from '../farm/types.js';
import { timeView } from './format.js';
import { sessionHref } from './links.js';
import { checkURL, type UrlPolicy, type UrlVerdict } from './url-policy.js';

export function deviceFactsView(store: FarmStore, policy: UrlPolicy, ns: string, pool: string, device: string, now: number) {
  const p = store.getPool(ns, pool);
  const d = p?.devices.find((x) => x.name === device);
  const session = d?.session ? store.getSession(ns, d.session) : undefined;
  return {
    namespace: ns,
    pool,
    name: device,
    device: d,
    synced: store.syncStatus().synced,
    stale: d ? isHeartbeatStale(d, now) : false,
    stream: d ? checkURL(d.streamURL, policy) : ({ ok: false, reason: 'no such device' } satisfies UrlVerdict),
    appium: d ? checkURL(d.appiumURL, policy) : undefined,
    session: session && { name: session.name, phase: session.phase, href: sessionHref(ns, session.name) },
    // Read by the page's Restart button (outside this region) when it asks for confirmation.
    restartConfirm: d ? restartQuestion(d) : '',
    lease: session && isClaim(session) ? leaseView(session, device, now) : undefined,
    // Leases that wait for this very device, oldest first: a second lease queues behind the first.
    waiting:
      p && d
        ? store
            .sessionsOfPool(ns, pool)
            .filter((s) => s.phase === 'Pending' && s.spec.deviceName === device)
            .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))
            .map((s) => ({ name: s.name, href: sessionHref(ns, s.name), holder: s.lease?.holder ?? '', reason: s.lease?.reason ?? '' }))
        : [],
    times: { bootStarted: timeView(d?.bootStartedAt, now), ready: timeView(d?.readyAt, now), heartbeat: timeView(d?.lastHeartbeatAt, now) },
  };
}

/** What the device page says about the lease that holds the device, and what Release asks. */
function leaseView(s: SessionView, device: string, now: number) {
  return {
    session: s.name,
    href: sessionHref(s.namespace, s.name),
    phase: s.phase,
    holder: s.lease?.holder ?? '',
    reason: s.lease?.reason ?? '',
    endsAt: timeView(leaseEndsAt(s), now),
    extendable: extendedTimeout(s.spec.timeoutSeconds) !== undefined,
    releasing: s.spec.cancelRequested,
    releaseConfirm: `Release device ${device}? Lease ${s.name}${s.lease?.holder ? ` held by ${s.lease.holder}` : ''} ends (Stop), and the device goes back to the pool.`,
  };
}

/** What Restart asks before deleting a device's pod: it names the session it would end. */
export function restartQuestion(d: DeviceView): string {
  const pod = d.podName ? `its pod ${d.podName} is deleted and the pool recreates it` : 'it reports no pod yet, so there is nothing to restart';
  return `Restart device ${d.name}? ${pod[0]!.toUpperCase()}${pod.slice(1)}.${d.session ? ` Session ${d.session} on it ends.` : ' No session is on it.'}`;
}
