import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';

const none = () => false;
const load = (argv: string[], env: NodeJS.ProcessEnv = {}, files: string[] = []): Config =>
  loadConfig({ argv, env, home: '/home/op', fileExists: (p) => files.includes(p) || none() })!;

describe('config', () => {
  it('defaults to port 8080, all namespaces and the demo when no cluster is configured', () => {
    const c = load([])!;
    expect(c.port).toBe(8080);
    expect(c.namespaces).toEqual([]);
    expect(c.cluster).toEqual({ mode: 'demo', reason: 'no-cluster' });
  });

  it('uses ~/.kube/config when it exists, so a configured cluster never starts the demo by accident', () => {
    expect(load([], {}, ['/home/op/.kube/config']).cluster).toEqual({ mode: 'kubeconfig', kubeconfig: undefined, context: undefined });
  });

  it('prefers flags over environment variables', () => {
    const c = load(['--port', '9000', '--kubeconfig', '/k'], { PORT: '7000', KUBECONFIG: '/other' }, ['/k', '/other'])!;
    expect(c.port).toBe(9000);
    expect(c.cluster).toMatchObject({ mode: 'kubeconfig', kubeconfig: '/k' });
  });

  it('accepts repeated --namespace flags and a comma list in the environment', () => {
    expect(load(['--namespace', 'a', '--namespace', 'b', '--demo']).namespaces).toEqual(['a', 'b']);
    expect(load(['--demo'], { DROIDFARM_NAMESPACES: 'a, b,,a' }).namespaces).toEqual(['a', 'b']);
  });

  it('detects in-cluster credentials', () => {
    const c = load([], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, ['/var/run/secrets/kubernetes.io/serviceaccount/token']);
    expect(c.cluster).toEqual({ mode: 'in-cluster' });
  });

  it('--demo wins over a configured cluster', () => {
    expect(load(['--demo'], { KUBECONFIG: '/k' }, ['/k']).cluster).toEqual({ mode: 'demo', reason: 'forced' });
  });

  it.each([
    [['--port', 'http'], {}, /--port=http is not a port/],
    [['--port', '70000'], {}, /not a port/],
    [[], { PORT: '-1' }, /PORT=-1 is not a port/],
    [['--namespace', 'Bad_NS'], {}, /not a valid namespace name/],
    [['--kubeconfig', '/missing'], {}, /does not exist/],
    [['--stream-origin', 'https://s.example/path'], {}, /origin only/],
    [['--stream-origin', 'http://s.example'], {}, /plain http/],
    [['--stream-origin', 'not a url'], {}, /is not a URL/],
    [['--link-origin', 'https://a.example/bucket'], {}, /--link-origin "https:\/\/a.example\/bucket" must be an origin only/],
    [['--link-origin', 'http://a.example'], {}, /--link-origin http:\/\/a.example is plain http/],
    [[], { DROIDFARM_LINK_ORIGINS: 'https://user:pw@a.example' }, /origin only/],
    [['--log-level', 'loud'], {}, /is not one of/],
    [['--frobnicate'], {}, /Unknown option.*--help/],
    [[], { DROIDFARM_READ_ONLY: 'maybe' }, /is not a boolean/],
    [['--context', 'prod'], {}, /no kubeconfig was found/],
    [['--shutdown-delay', '90'], {}, /--shutdown-delay=90 is not valid: use whole seconds from 0 to 60/],
    [[], { DROIDFARM_SHUTDOWN_DELAY: '1.5' }, /DROIDFARM_SHUTDOWN_DELAY=1.5 is not valid/],
  ])('rejects %j %j with a message that says what to fix', (argv, env, message) => {
    expect(() => load(argv as string[], env as NodeJS.ProcessEnv)).toThrowError(ConfigError);
    expect(() => load(argv as string[], env as NodeJS.ProcessEnv)).toThrowError(message as RegExp);
  });

  it('reads the shutdown delay from the flag or the environment, 0 by default', () => {
    expect(load(['--demo']).shutdownDelaySeconds).toBe(0);
    expect(load(['--demo', '--shutdown-delay', '5']).shutdownDelaySeconds).toBe(5);
    expect(load(['--demo'], { DROIDFARM_SHUTDOWN_DELAY: '3' }).shutdownDelaySeconds).toBe(3);
  });

  it('normalises stream origins and allows http only when asked', () => {
    const c = load(['--demo', '--stream-origin', 'https://S.example:443/', '--stream-origin', 'http://lab:8443', '--allow-http-streams'])!;
    expect(c.streamOrigins).toEqual(['https://s.example', 'http://lab:8443']);
  });

  it('keeps artifact link origins apart from stream origins, from the flag or the environment', () => {
    const c = load(['--kubeconfig', '/k', '--link-origin', 'https://Artifacts.example/', '--link-origin', 'https://artifacts.example'], {}, ['/k'])!;
    expect(c.linkOrigins).toEqual(['https://artifacts.example']);
    expect(c.streamOrigins).toEqual([]);
    expect(load(['--kubeconfig', '/k'], { DROIDFARM_LINK_ORIGINS: 'https://a.example, https://b.example:8443' }, ['/k']).linkOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(load(['--kubeconfig', '/k'], {}, ['/k']).linkOrigins).toEqual([]);
    // The demo links to the artifacts it serves itself.
    expect(load(['--demo']).linkOrigins).toEqual(["'self'"]);
  });

  it('logs pretty lines on a terminal and JSON otherwise, unless --log-format or LOG_FORMAT says', () => {
    const format = (argv: string[], env: NodeJS.ProcessEnv, stdoutIsTTY: boolean) =>
      loadConfig({ argv: ['--demo', ...argv], env, home: '/home/op', fileExists: none, stdoutIsTTY })!.logFormat;
    expect(format([], {}, true)).toBe('pretty');
    expect(format([], {}, false)).toBe('json');
    expect(format(['--log-format', 'json'], {}, true)).toBe('json');
    expect(format([], { LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(format(['--log-format', 'json'], { LOG_FORMAT: 'pretty' }, false)).toBe('json');
    expect(() => format(['--log-format', 'text'], {}, true)).toThrow(/--log-format "text" is not one of json, pretty/);
  });

  it('returns null for --help', () => {
    expect(loadConfig({ argv: ['--help'], env: {} })).toBeNull();
  });
});
