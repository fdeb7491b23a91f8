import { describe, expect, it } from 'vitest';
import { checkSessionRequest, sessionObject } from '../../src/farm/session-request.js';

const BASE = { namespace: 'team-a', pool: 'regression' };
const app = (packageName: string, apkURL = `https://artifacts.example.com/${packageName}.apk`) => ({ packageName, apkURL });

describe('a session request, field by field', () => {
  const refused: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['no namespace', { namespace: undefined }, 'namespace', /is required/],
    ['a namespace with dots', { namespace: 'a.b' }, 'namespace', /namespace name/],
    ['a namespace as a number', { namespace: 7 }, 'namespace', /must be a string/],
    ['no pool', { pool: '' }, 'pool', /is required/],
    ['a pool name with capitals', { pool: 'Regression' }, 'pool', /DevicePool name/],
    ['a name with two dots in a row', { name: 'a..b' }, 'name', /lowercase letters/],
    ['a name of 254 characters', { name: 'a'.repeat(254) }, 'name', /at most 253/],
    ['a timeout of 59 s', { timeoutSeconds: 59 }, 'timeoutSeconds', /from 60 to 86400 seconds/],
    ['a timeout over a day', { timeoutSeconds: 86401 }, 'timeoutSeconds', /from 60 to 86400 seconds/],
    ['a timeout of 1.5 s', { timeoutSeconds: 90.5 }, 'timeoutSeconds', /whole number/],
    ['a timeout as text', { timeoutSeconds: 'soon' }, 'timeoutSeconds', /whole number/],
    ['apps that are not a list', { apps: 'com.example.shop' }, 'apps', /a list/],
    ['21 apps', { apps: Array.from({ length: 21 }, (_, i) => app(`com.example.app${i}`)) }, 'apps', /at most 20/],
    ['an app without package', { apps: [{ apkURL: 'https://a.example.com/x.apk' }] }, 'apps[0].packageName', /is required/],
    ['a package that is not Java', { apps: [app('shop')] }, 'apps[0].packageName', /Android package name/],
    ['an http APK', { apps: [app('com.example.shop', 'http://a.example.com/x.apk')] }, 'apps[0].apkURL', /https:\/\//],
    ['an APK URL with credentials', { apps: [app('com.example.shop', 'https://user:pw@a.example.com/x.apk')] }, 'apps[0].apkURL', /https:\/\//],
    ['one app twice', { apps: [app('com.example.shop'), app('com.example.shop')] }, 'apps[1].packageName', /listed twice/],
    ['an unknown app field', { apps: [{ ...app('com.example.shop'), sha: 'x' }] }, 'apps[0].sha', /unknown field/],
    ['a runner that is text', { runner: 'espresso' }, 'runner', /an object/],
    ['a runner without image', { runner: { args: ['x'] } }, 'runner.image', /is required/],
    ['an image with a space', { runner: { image: 'a b' } }, 'runner.image', /without spaces/],
    ['65 command words', { runner: { image: 'i', command: Array.from({ length: 65 }, () => 'x') } }, 'runner.command', /at most 64/],
    ['an argument of 4,097 characters', { runner: { image: 'i', args: ['x'.repeat(4097)] } }, 'runner.args[0]', /at most 4096/],
    ['an env name starting with a digit', { runner: { image: 'i', env: [{ name: '1X', value: '' }] } }, 'runner.env[0].name', /not starting with a digit/],
    ['one env name twice', { runner: { image: 'i', env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] } }, 'runner.env[1].name', /set twice/],
    ['an unknown runner field', { runner: { image: 'i', privileged: true } }, 'runner.privileged', /unknown field/],
    ['an unknown field', { priority: 'high' }, 'priority', /unknown field/],
    ['labels as a list', { labels: ['a=b'] }, 'labels', /label keys to values/],
    ['a bad label key', { labels: { 'a b': 'c' } }, 'labels.a b', /not a valid label key/],
    ['a label value too long', { labels: { a: 'v'.repeat(64) } }, 'labels.a', /not a valid label value/],
  ];
  it.each(refused)('refuses %s', (_what, patch, field, message) => {
    const checked = checkSessionRequest({ ...BASE, ...patch });
    expect(checked.ok).toBe(false);
    const errors = checked.ok ? [] : checked.errors;
    const cause = errors.find((e) => e.field === field);
    expect(cause, JSON.stringify(errors)).toBeDefined();
    expect(cause!.message).toMatch(message);
  });

  it('refuses what is not an object, and collects every problem at once', () => {
    for (const body of [null, [], 'x', 3]) expect(checkSessionRequest(body)).toEqual({ ok: false, errors: [{ field: '', message: 'the body must be a JSON object' }] });
    const checked = checkSessionRequest({ namespace: 1, pool: ['p'], apps: 'x', runner: 'y', labels: [] });
    expect(checked.ok ? [] : checked.errors.map((e) => e.field)).toEqual(['namespace', 'pool', 'apps', 'runner', 'labels']);
  });

  it('accepts a full request and turns it into the TestSession the CRD describes', () => {
    const checked = checkSessionRequest({
      ...BASE,
      name: 'login-smoke.v2',
      timeoutSeconds: 600,
      apps: [app('com.example.shop')],
      runner: { image: 'registry.example.com/e2e:1', command: ['run'], args: ['--suite', ''], env: [{ name: 'TOKEN' }] },
      labels: { 'droidfarm.io/suite': 'smoke' },
    });
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.request.runner?.env).toEqual([{ name: 'TOKEN', value: '' }]);
    expect(sessionObject(checked.request)).toEqual({
      apiVersion: 'droidfarm.io/v1alpha1',
      kind: 'TestSession',
      metadata: { name: 'login-smoke.v2', labels: { 'droidfarm.io/suite': 'smoke' } },
      spec: {
        poolRef: { name: 'regression' },
        timeoutSeconds: 600,
        apps: [app('com.example.shop')],
        runner: { image: 'registry.example.com/e2e:1', command: ['run'], args: ['--suite', ''], env: [{ name: 'TOKEN', value: '' }] },
      },
    });
  });

  it('treats empty optional fields as not given, and names a session after its pool when it has no name', () => {
    const checked = checkSessionRequest({ ...BASE, name: '', timeoutSeconds: '', apps: [], labels: {} });
    expect(checked).toEqual({ ok: true, request: { namespace: 'team-a', name: '', pool: 'regression', deviceName: '', timeoutSeconds: undefined, apps: [], runner: undefined, labels: {} } });
    if (checked.ok) expect(sessionObject(checked.request).metadata).toEqual({ generateName: 'regression-' });
  });
});
