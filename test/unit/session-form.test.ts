// Pure pieces of the session form and actions: the error summary's links, the retry-of
// label for names longer than a label value may be, and the one-time flash cookie.
import { describe, expect, it } from 'vitest';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { flashDeleted, takeFlash } from '../../src/http/flash.js';
import { retryLabel } from '../../src/kube/session-objects.js';
import { errorSummary, FIELD_LABELS, fieldId } from '../../src/routes/sessions/form.js';

/** Just the header handling of a reply, to read what a function sets. */
function replyStub(): FastifyReply & { set: Record<string, string> } {
  const set: Record<string, string> = {};
  const reply = { set, header: (k: string, v: string) => ((set[k] = v), reply) };
  return reply as unknown as FastifyReply & { set: Record<string, string> };
}

describe('the error summary', () => {
  it('lists the form-wide problems first, then each field in form order, linked to it', () => {
    const summary = errorSummary({ labels: ['bad key'], form: ['the pool is gone'], apps: ['line 1: APK URL must be an https:// URL', 'line 2: package missing'], pool: ['choose a pool'] });
    expect(summary).toEqual([
      { href: '', label: '', message: 'the pool is gone' },
      { href: '#field-pool', label: 'Pool', message: 'choose a pool' },
      { href: '#field-apps', label: 'Apps to install', message: 'line 1: APK URL must be an https:// URL' },
      { href: '#field-apps', label: 'Apps to install', message: 'line 2: package missing' },
      { href: '#field-labels', label: 'Labels', message: 'bad key' },
    ]);
    expect(Object.keys(FIELD_LABELS).map(fieldId)).toContain('field-runnerEnv');
  });
});

describe('the retry-of label', () => {
  it('is the name when it fits a label value, else a stable short form that still is one', () => {
    expect(retryLabel('smoke-1')).toBe('smoke-1');
    const long = `a.${'b'.repeat(60)}.${'c'.repeat(60)}`;
    const label = retryLabel(long);
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(/^[a-z0-9A-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/);
    expect(retryLabel(long)).toBe(label);
    expect(retryLabel(`${long}x`)).not.toBe(label);
  });
});

describe('the flash after a delete', () => {
  it('is worded by the page from what happened, shown once, and ignores anything else', () => {
    const set = replyStub();
    flashDeleted(set, 'team-a', 'smoke-1', '/sessions');
    const cookie = set.set['Set-Cookie']!.split(';')[0]!;
    expect(set.set['Set-Cookie']).toMatch(/SameSite=Strict/);
    const take = (header: string) => {
      const reply = replyStub();
      return { flash: takeFlash({ headers: { cookie: header } } as FastifyRequest, reply, '/sessions'), cleared: reply.set['Set-Cookie'] ?? '' };
    };
    expect(take(`other=1; ${cookie}`)).toEqual({ flash: { level: 'info', message: 'Deleted TestSession smoke-1 from team-a.' }, cleared: expect.stringMatching(/^df_flash=; .*Max-Age=0/) });
    expect(take('other=1').flash).toBeUndefined();
    expect(take(`df_flash=${encodeURIComponent('deleted:team-a/<script>')}`).flash).toBeUndefined();
    expect(take(`df_flash=${encodeURIComponent('You won a prize')}`).flash).toBeUndefined();
    expect(take('df_flash=%E0%A4%A').flash).toBeUndefined();
  });
});
