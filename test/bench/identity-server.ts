// The identity bench's server process (started by identity.ts for each fan-out run, so every
// run has a fresh process): the dashboard of identity-farm.ts listening on a port, with
// BENCH_VIEWS distinct views in its made-up RBAC. On request it flips a device in team-0
// (which every view includes) and reports its broker's counters and its CPU time.
import type { AddressInfo } from 'node:net';
import { makeDevices, MARKER, statusOf } from './farm.js';
import { ns, POOL_DEVICES, rbacFarm, startDashboard } from './identity-farm.js';
import { clockMs, openFileLimit, profilerHandlers, sendNotice, serve } from './proc.js';

const views = Number(process.env.BENCH_VIEWS ?? 128);
const cluster = await rbacFarm(views);
const app = await startDashboard(cluster, Number(process.env.BENCH_TTL_MS ?? 30_000));
await app.listen({ host: '127.0.0.1', port: 0 });
const devices = makeDevices(POOL_DEVICES);

serve({
  /** Device `round mod 40` of team-0 goes Unhealthy, carrying the round's marker (or back to Idle). */
  change: async ({ round, unhealthy }: { round: number; unhealthy: boolean }) => {
    const i = (round * 7) % devices.length;
    devices[i] = { ...devices[i]!, state: unhealthy ? 'Unhealthy' : 'Idle', message: unhealthy ? `${MARKER}${round}-` : '' };
    const at = clockMs();
    await cluster.patch('pools', ns(0), 'farm', { status: statusOf(devices) }, { subresource: 'status' });
    return { at, reviews: cluster.reviews.length };
  },
  // With BENCH_PROFILE_DIR set, the driver profiles the measured rounds of each run.
  ...profilerHandlers(),
  stats: () => {
    const cpu = process.cpuUsage();
    return { fragmentsRendered: app.farm.broker.stats().fragmentsRendered, scopedTopics: app.farm.catalog.scopedTopicCount, cpuMs: (cpu.user + cpu.system) / 1000 };
  },
});
sendNotice({ notice: 'ready', port: (app.server.address() as AddressInfo).port, pid: process.pid, openFiles: openFileLimit() });
