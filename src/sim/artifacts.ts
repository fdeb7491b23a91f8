// The embedded demo's artifact files: small, generated from what the session's status says
// (phase, results), the same bytes every time. The demo serves them (src/routes/demo) and
// its simulator reports their real sizes, so every artifact link of a demo session
// downloads a file that matches its listing. A real farm's artifacts live in its own store.
import { crc32, deflateSync } from 'node:zlib';

export interface ArtifactFacts {
  namespace: string;
  session: string;
  phase: string;
  results: { passed: number; failed: number; skipped: number } | undefined;
}

export interface ArtifactFile {
  contentType: string;
  body: Buffer;
}

/** Where the demo serves them; the simulator appends /<namespace>/<session>/<file>. */
export const DEMO_ARTIFACT_BASE = '/demo/artifacts';

const GENERATORS: Record<string, (facts: ArtifactFacts) => ArtifactFile> = {
  'junit.xml': (f) => ({ contentType: 'application/xml; charset=utf-8', body: Buffer.from(junit(f)) }),
  'logcat.txt': (f) => ({ contentType: 'text/plain; charset=utf-8', body: Buffer.from(logcat(f)) }),
  'failure.png': (f) => ({ contentType: 'image/png', body: screenshot(f.phase) }),
  'screen-recording.mp4': () => ({ contentType: 'video/mp4', body: RECORDING }),
};

/** The file the demo serves for an artifact name, or undefined for a name it never lists. */
export function demoArtifact(file: string, facts: ArtifactFacts): ArtifactFile | undefined {
  return Object.hasOwn(GENERATORS, file) ? GENERATORS[file]!(facts) : undefined;
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function junit({ namespace, session, results }: ArtifactFacts): string {
  const r = results ?? { passed: 0, failed: 0, skipped: 0 };
  const tests = r.passed + r.failed + r.skipped;
  const suite = xml(`${namespace}/${session}`);
  const cases = [
    ...Array.from({ length: Math.min(r.failed, 20) }, (_, i) => `    <testcase classname="com.example.shop.CheckoutTest" name="failingCase${i + 1}" time="1.7"><failure message="expected the order summary">AssertionError: expected the order summary to be displayed</failure></testcase>`),
    `    <testcase classname="com.example.shop.SmokeTest" name="opensHome" time="0.9"/>`,
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${suite}" tests="${tests}" failures="${r.failed}" skipped="${r.skipped}">`,
    `  <testsuite name="${suite}" tests="${tests}" failures="${r.failed}" skipped="${r.skipped}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function logcat({ session, phase, results }: ArtifactFacts): string {
  const lines = [
    `--------- beginning of main (simulated logcat of ${session})`,
    '12-02 10:00:00.000  1234  1234 I ActivityManager: Start proc com.example.shop',
    '12-02 10:00:00.412  1234  1234 I TestRunner: started: opensHome(com.example.shop.SmokeTest)',
    '12-02 10:00:01.305  1234  1234 I TestRunner: finished: opensHome(com.example.shop.SmokeTest)',
  ];
  if (results && results.failed > 0) lines.push('12-02 10:00:03.118  1234  1234 E TestRunner: failed: failingCase1(com.example.shop.CheckoutTest)');
  lines.push(`12-02 10:00:04.000  1234  1234 I TestRunner: run finished: ${phase}${results ? ` (${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped)` : ''}`, '');
  return lines.join('\n');
}

/** A 90×160 phone-shaped PNG: a status bar, a red banner for a failure, a grey screen. */
function screenshot(phase: string): Buffer {
  const width = 90;
  const height = 160;
  const banner = phase === 'Failed' ? [225, 29, 72] : [16, 185, 129];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    const colour = y < 8 ? [30, 41, 59] : y >= 60 && y < 84 ? banner : [226, 232, 240];
    for (let x = 0; x < width; x++) raw.set(colour, row + 1 + x * 3);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An MP4 container with no frames (ftyp, an empty mdat): the bytes of a video file, not a film. */
const RECORDING = (() => {
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + payload.length, 0);
    head.write(type, 4, 'ascii');
    return Buffer.concat([head, payload]);
  };
  const version = Buffer.alloc(4);
  version.writeUInt32BE(0x200, 0);
  const ftyp = Buffer.concat([Buffer.from('isom', 'ascii'), version, Buffer.from('isomiso2mp41', 'ascii')]);
  return Buffer.concat([box('ftyp', ftyp), box('free', Buffer.from('simulated screen recording of a DroidFarm demo session', 'ascii')), box('mdat', Buffer.alloc(0))]);
})();
