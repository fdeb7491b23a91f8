// Where the simulated farm's things are: a device's stream page and Appium endpoint, and a
// finished session's artifacts (their sizes made up, or the demo's real ones).
import type { ArtifactFacts } from './artifacts.js';
import { between } from './random.js';
import type { Artifacts } from './session-model.js';

export interface FarmLinkOptions {
  /** Base of device stream pages and Appium endpoints; the device path is appended. */
  streamBaseURL?: string | undefined;
  appiumBaseURL?: string | undefined;
  artifactBaseURL?: string | undefined;
  /** Size of an artifact file whose bytes exist (the demo serves its own); default: a made-up size. */
  artifactSize?: ((file: string, facts: ArtifactFacts) => number | undefined) | undefined;
}

export class FarmLinks {
  constructor(private readonly options: FarmLinkOptions) {}

  streamURL(namespace: string, device: string): string {
    return `${this.options.streamBaseURL ?? 'https://streams.droidfarm.example'}/${encodeURIComponent(namespace)}/${encodeURIComponent(device)}`;
  }

  appiumURL(namespace: string, device: string): string {
    return `${this.options.appiumBaseURL ?? 'https://appium.droidfarm.example'}/${encodeURIComponent(namespace)}/${encodeURIComponent(device)}/wd/hub`;
  }

  /** A finished session's artifacts: a recording and logcat always, JUnit when tests ran to the end, a screenshot of a failure. */
  readonly artifacts: Artifacts = (session, phase, results, random) => {
    const base = `${this.options.artifactBaseURL ?? 'https://artifacts.droidfarm.example'}/${encodeURIComponent(session.namespace)}/${encodeURIComponent(session.name)}`;
    const facts: ArtifactFacts = { namespace: session.namespace, session: session.name, phase, results };
    const artifact = (name: string, kind: string, madeUpSize: number) => ({ name, kind, url: `${base}/${name}`, sizeBytes: this.options.artifactSize?.(name, facts) ?? madeUpSize });
    const list: Array<Record<string, unknown>> = [artifact('screen-recording.mp4', 'video', between(random, 8, 60) * 1_048_576), artifact('logcat.txt', 'logcat', between(random, 200, 2_000) * 1024)];
    if (phase === 'Succeeded' || phase === 'Failed') list.push(artifact('junit.xml', 'junit', between(random, 8, 90) * 1024));
    if (phase === 'Failed') list.push(artifact('failure.png', 'screenshot', between(random, 80, 400) * 1024));
    return list;
  };
}
