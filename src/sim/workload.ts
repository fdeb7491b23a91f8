// The demo's steady flow of sessions: a pool gets a new TestSession now and then, of a
// suite, an app and a build drawn from the pool's own stream. Named here, not by the
// server's generateName: a session's story is seeded by its name, so server-chosen names
// would break determinism.
import type { NewKubeObject } from '../kube/types.js';
import { between, type Random } from './random.js';

const SUITES = ['smoke', 'login', 'checkout', 'onboarding', 'regression', 'payments', 'search'];
const APPS = ['com.example.shop', 'com.example.bank', 'com.example.maps'];
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Whether the pool starts a session in a step of `stepMs` simulated time at `perMinute`. */
export function startsSession(random: Random, perMinute: number, stepMs: number): boolean {
  return perMinute > 0 && random() < (perMinute * stepMs) / 60_000;
}

/** A session's kind, drawn once; then names are drawn until one is free (`nameFor`). */
export function simulatedSession(random: Random, namespace: string, pool: string): { nameFor: () => string; object: (name: string) => NewKubeObject } {
  const suite = pick(random, SUITES);
  const app = pick(random, APPS);
  const build = between(random, 100, 140);
  return {
    nameFor: () => `${pool}-${suite}-${nameSuffix(random)}`,
    object: (name) => ({
      apiVersion: 'droidfarm.io/v1alpha1',
      kind: 'TestSession',
      metadata: { name, namespace, labels: { 'droidfarm.io/simulated': 'true', 'droidfarm.io/suite': suite } },
      spec: {
        poolRef: { name: pool },
        timeoutSeconds: 900,
        apps: [{ packageName: app, apkURL: `https://artifacts.droidfarm.example/apks/${app}-${build}.apk` }],
        runner: { image: 'ghcr.io/droidfarm/espresso-runner:1.8', command: ['run-suite'], args: [`--suite=${suite}`], env: [{ name: 'APP_PACKAGE', value: app }] },
      },
    }),
  };
}

function nameSuffix(random: Random): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(random() * NAME_CHARS.length)];
  return s;
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}
