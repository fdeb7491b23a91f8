// The line a person acts on when the dashboard starts, and the warning when anyone can reach it.
import { describe, expect, it } from 'vitest';
import { dashboardURL, exposureWarning, startupLine } from '../../src/startup-line.js';

const demo = { mode: 'demo', reason: 'no-cluster' } as const;

describe('the startup line', () => {
  it('names what runs and the URL to open', () => {
    expect(startupLine(demo, 'embedded demo (in memory)', 'http://localhost:8080')).toBe('DroidFarm dashboard — embedded demo — open http://localhost:8080');
    expect(startupLine({ mode: 'kubeconfig', kubeconfig: undefined, context: undefined }, 'https://10.0.0.1:6443', 'http://127.0.0.1:9000')).toBe(
      'DroidFarm dashboard — watching https://10.0.0.1:6443 — open http://127.0.0.1:9000',
    );
  });

  it('opens localhost when bound to every interface, the address itself otherwise', () => {
    expect(dashboardURL('0.0.0.0', 8080)).toBe('http://localhost:8080');
    expect(dashboardURL('::', 8081)).toBe('http://localhost:8081');
    expect(dashboardURL('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(dashboardURL('::1', 8080)).toBe('http://[::1]:8080');
    expect(dashboardURL('dash.lab', 80)).toBe('http://dash.lab:80');
  });

  it('warns that anyone on the network can reach it when bound to every interface outside a pod', () => {
    expect(exposureWarning('0.0.0.0', demo, false)).toMatch(/every network interface \(0\.0\.0\.0\): anyone .* can start, stop and delete test sessions; --host 127\.0\.0\.1 keeps it local/);
    expect(exposureWarning('::', demo, true)).toMatch(/anyone .* can see the farm/);
    expect(exposureWarning('127.0.0.1', demo, false)).toBeNull();
    // In a pod, the Service and the NetworkPolicy decide who reaches it.
    expect(exposureWarning('0.0.0.0', { mode: 'in-cluster' }, false)).toBeNull();
  });
});
