import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { CRD, OUT, render } from '../../scripts/crd-schemas.mjs';

const root = join(import.meta.dirname, '..', '..');

describe('the TestSession schema the dashboard checks with', () => {
  it('is the CRD\'s, as generated from it (if not: npm run crd-schemas)', () => {
    const expected = render(readFileSync(join(root, CRD as string), 'utf8')) as string;
    const actual = readFileSync(join(root, OUT as string), 'utf8');
    expect(actual, `${OUT as string} differs from ${CRD as string}: run npm run crd-schemas`).toBe(expected);
  });
});
