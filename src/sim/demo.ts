// The embedded demo: an in-memory cluster with three pools of different templates and
// sizes, a steady flow of test sessions, and the simulator playing the operator. What
// `npm start` shows when no cluster is configured.
import { MemoryCluster } from '../kube/memory-cluster.js';
import type { NewKubeObject } from '../kube/types.js';
import { DEMO_ARTIFACT_BASE, demoArtifact } from './artifacts.js';
import { backfillHistory, type HistoryPool } from './history.js';
import { FarmSimulator } from './simulator.js';

export const DEMO_NAMESPACE = 'droidfarm-demo';

const TEMPLATES = [
  { name: 'pixel-6-android-14', androidVersion: '14', avdProfile: 'pixel_6', emulationBackend: 'cuttlefish', cpu: '4', memory: '8Gi' },
  { name: 'pixel-8-android-15', androidVersion: '15', avdProfile: 'pixel_8', emulationBackend: 'cuttlefish', cpu: '4', memory: '8Gi' },
  { name: 'tablet-android-13', androidVersion: '13', avdProfile: 'pixel_tablet', emulationBackend: 'cuttlefish-qemu', cpu: '2', memory: '6Gi' },
];

const POOLS = [
  { name: 'smoke', template: 'pixel-6-android-14', replicas: 12, busyAtStart: 5 },
  { name: 'regression', template: 'pixel-8-android-15', replicas: 40, busyAtStart: 22 },
  { name: 'tablets', template: 'tablet-android-13', replicas: 6, busyAtStart: 2 },
];

/** The day before the demo started, for /insights (see history.ts): tablets is the bottleneck at times. */
const HISTORY: HistoryPool[] = [
  { name: 'smoke', replicas: 12, perHour: 24, meanRunMs: 8 * 60_000 },
  { name: 'regression', replicas: 40, perHour: 36, meanRunMs: 20 * 60_000 },
  { name: 'tablets', replicas: 6, perHour: 12, meanRunMs: 6 * 60_000, bursts: [[15, 13, 80], [5, 4, 90]], waitingNow: 10 },
];

export interface Demo {
  cluster: MemoryCluster;
  simulator: FarmSimulator;
  stop(): void;
}

export async function startDemo(options: { seed?: number; speed?: number; history?: boolean } = {}): Promise<Demo> {
  // The clock is moved back only while the day of history is written.
  let clock: number | undefined;
  const cluster = new MemoryCluster({ now: () => clock ?? Date.now() });
  for (const t of TEMPLATES) {
    await cluster.create('templates', DEMO_NAMESPACE, template(t));
  }
  for (const p of POOLS) {
    await cluster.create('pools', DEMO_NAMESPACE, {
      metadata: { name: p.name, namespace: DEMO_NAMESPACE, labels: { 'droidfarm.io/team': p.name === 'tablets' ? 'tablet-ux' : 'mobile-core' } },
      spec: { templateRef: { name: p.template }, replicas: p.replicas },
    });
    // Sessions already waiting, so the very first page shows busy devices.
    for (let i = 0; i < p.busyAtStart; i++) {
      await cluster.create('sessions', DEMO_NAMESPACE, {
        metadata: { generateName: `${p.name}-nightly-`, namespace: DEMO_NAMESPACE, labels: { 'droidfarm.io/simulated': 'true', 'droidfarm.io/suite': 'nightly' } },
        spec: {
          poolRef: { name: p.name },
          timeoutSeconds: 900,
          apps: [{ packageName: 'com.example.shop', apkURL: 'https://artifacts.droidfarm.example/apks/com.example.shop-128.apk' }],
          runner: { image: 'ghcr.io/droidfarm/espresso-runner:1.8', command: ['run-suite'], args: ['--suite=nightly'], env: [] },
        },
      });
    }
  }
  if (options.history !== false) {
    await backfillHistory({
      cluster,
      namespace: DEMO_NAMESPACE,
      seed: options.seed ?? 42,
      now: Date.now(),
      pools: HISTORY,
      setClock: (at) => (clock = at),
      flakyDevice: 'regression-7',
      // A little more than a day, so the 24 h window is covered whole.
      hours: 24.25,
    });
  }
  const simulator = new FarmSimulator({
    cluster,
    podLogs: cluster,
    namespace: DEMO_NAMESPACE,
    seed: options.seed ?? 42,
    speed: options.speed ?? 1,
    tickMs: 500,
    warmStart: true,
    // Restart deletes a device's pod: the demo keeps one per device and restarts the device.
    devicePods: true,
    // Served by src/routes/demo: the demo's stand-in for a device's WebRTC page.
    streamBaseURL: '/demo/stream',
    // Served by src/routes/demo too: small generated files, listed with their real sizes.
    artifactBaseURL: DEMO_ARTIFACT_BASE,
    artifactSize: (file, facts) => demoArtifact(file, facts)?.body.length,
    sessionsPerMinute: 4,
    keepFinishedMs: 20 * 60_000,
  });
  // One tick before serving, so the first page already shows a living farm.
  await simulator.tick();
  simulator.start();
  return {
    cluster,
    simulator,
    stop: () => simulator.stop(),
  };
}

function template(t: (typeof TEMPLATES)[number]): NewKubeObject {
  return {
    metadata: { name: t.name, namespace: DEMO_NAMESPACE },
    spec: {
      androidVersion: t.androidVersion,
      avdProfile: t.avdProfile,
      emulationBackend: t.emulationBackend,
      resources: { cpu: t.cpu, memory: t.memory },
      appConfig: [{ packageName: 'com.example.shop', apkSource: { url: 'https://artifacts.droidfarm.example/apks/com.example.shop-128.apk' } }],
    },
  };
}
