// A pool page's view models: its header, its device grid (one tile per device, lease marks
// included) and its device wall's data. Built from the store; templates only render them.
import { devicesInOrder, isHeartbeatStale } from '../farm/devices.js';
import { isClaim } from '../farm/lease.js';
import type { FarmStore } from '../farm/store.js';
import type { DeviceState, DeviceView, PoolView } from '../farm/types.js';
import { domId } from './dom-id.js';
import { poolCard } from './farm-page.js';
import { firstLine } from './format.js';
import { deviceHref } from './links.js';
import { checkURL, type UrlPolicy } from './url-policy.js';

export interface DeviceTile {
  id: string;
  name: string;
  state: DeviceState;
  session: string;
  stale: boolean;
  message: string;
  /** Why an Unhealthy device is unhealthy, shown on the tile itself: the message's first line. */
  reason: string;
  href: string;
  /** The device is held by a lease (a claim without runner): who holds it. */
  lease: { holder: string } | undefined;
}

export function poolHeaderView(store: FarmStore, ns: string, name: string, now: number) {
  const pool = store.getPool(ns, name);
  const template = pool ? store.getTemplate(ns, pool.templateName) : undefined;
  return {
    namespace: ns,
    name,
    pool: pool && poolCard(pool),
    template: template && { name: template.name, androidVersion: template.androidVersion, avdProfile: template.avdProfile, backend: template.emulationBackend },
    conditions: pool?.conditions ?? [],
    staleDevices: pool ? pool.devices.filter((d) => isHeartbeatStale(d, now)).length : 0,
    // Before the first list, a missing pool or template is not known to be missing.
    synced: store.syncStatus().synced,
  };
}

export function deviceGridView(store: FarmStore, ns: string, name: string, now: number) {
  const pool = store.getPool(ns, name);
  return {
    namespace: ns,
    name,
    exists: pool !== undefined,
    synced: store.syncStatus().synced,
    tiles: pool ? devicesInOrder(pool.devices).map((d) => deviceTile(store, pool, d, now)) : [],
  };
}

export function deviceTile(store: FarmStore, pool: PoolView, d: DeviceView, now: number): DeviceTile {
  return {
    id: domId('tile', pool.namespace, pool.name, d.name),
    name: d.name,
    state: d.state,
    session: d.session,
    stale: isHeartbeatStale(d, now),
    message: d.message,
    reason: d.state === 'Unhealthy' ? firstLine(d.message) : '',
    href: deviceHref(pool.namespace, pool.name, d.name),
    lease: leaseMark(store, pool.namespace, d),
  };
}

/** A tile's lease mark: the device's session is a claim. */
function leaseMark(store: FarmStore, namespace: string, d: DeviceView): { holder: string } | undefined {
  const s = d.session ? store.getSession(namespace, d.session) : undefined;
  return s && isClaim(s) ? { holder: s.lease?.holder ?? '' } : undefined;
}

/**
 * A device wall's data: each device of the pool with its state, session and stream (under
 * the URL policy). Hidden on the page; public/app.js frames the busy (or picked) devices
 * and keeps the frames it already has, so a live update never reloads a stream.
 */
export function wallView(store: FarmStore, policy: UrlPolicy, ns: string, name: string) {
  const pool = store.getPool(ns, name);
  const devices = pool ? devicesInOrder(pool.devices) : [];
  return {
    exists: pool !== undefined,
    synced: store.syncStatus().synced,
    devices: devices.map((d) => ({
      key: domId('wall-frame', ns, name, d.name),
      name: d.name,
      state: d.state,
      session: d.session,
      href: deviceHref(ns, name, d.name),
      stream: checkURL(d.streamURL, policy),
      // A picked device without a stream URL (booting, or it lost its stream) gets no frame.
      streamable: d.streamURL !== '',
    })),
  };
}
