// Every error code a client can see is a documented DF_ERR_* code: each one in src/ has a
// row in the README's error table, and none of Fastify's own FST_ERR_* codes gets through.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCodes } from 'fastify';
import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/http/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The codes named in the first column of the README's error table. */
function documentedCodes(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((l) => /^\| `DF_ERR_/.test(l));
  return new Set(rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`(DF_ERR_[A-Z_]+)`/g)].map((m) => m[1]!)));
}

describe('error codes', () => {
  it('documents every DF_ERR_ code that appears in src/ in the README error table', () => {
    const used = new Set(sourceFiles(join(ROOT, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/DF_ERR_[A-Z_]*[A-Z]/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(10);
    const documented = documentedCodes();
    expect([...used].filter((code) => !documented.has(code)).sort()).toEqual([]);
  });

  it('maps every 4xx error Fastify can raise to a DF_ERR_ code with a message of its own', () => {
    const fastify4xx = Object.entries(errorCodes)
      .map(([name, Make]) => {
        try {
          return [name, new (Make as new (...a: string[]) => Error & { statusCode?: number })('a', 'b', 'c')] as const;
        } catch {
          return undefined;
        }
      })
      .filter((e): e is NonNullable<typeof e> => e !== undefined && typeof e[1].statusCode === 'number' && e[1].statusCode >= 400 && e[1].statusCode < 500);
    expect(fastify4xx.map(([name]) => name)).toContain('FST_ERR_CTP_BODY_TOO_LARGE');
    for (const [name, err] of fastify4xx) {
      const { status, body } = describeError(err);
      expect(body.error.code, name).toMatch(/^DF_ERR_/);
      expect(status, name).toBeGreaterThanOrEqual(400);
      // Fastify's own wording (and its placeholders, here 'a', 'b', 'c') never reaches a
      // client; a schema's validation message names the field, so it is kept, after ours.
      if (name === 'FST_ERR_VALIDATION') expect(body.error.message).toMatch(/^The request is not valid: /);
      else expect(body.error.message, name).not.toContain(err.message);
    }
  });

  it('answers the early errors with their own status and code', () => {
    const cases: Array<[Error, number, string]> = [
      [new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), 413, 'DF_ERR_TOO_LARGE'],
      [new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/xml'), 415, 'DF_ERR_UNSUPPORTED_MEDIA_TYPE'],
      [new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), 400, 'DF_ERR_BAD_REQUEST'],
      [new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), 400, 'DF_ERR_BAD_REQUEST'],
      [new errorCodes.FST_ERR_MAX_PARAM_LENGTH('/x'), 414, 'DF_ERR_NAME_TOO_LONG'],
      [new errorCodes.FST_ERR_BAD_URL('/%E0'), 400, 'DF_ERR_BAD_REQUEST'],
      [Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 }), 400, 'DF_ERR_BAD_REQUEST'],
    ];
    for (const [err, status, code] of cases) {
      expect(describeError(err), err.message).toMatchObject({ status, body: { error: { code } } });
    }
  });
});
