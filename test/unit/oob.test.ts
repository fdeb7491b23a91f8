// Out-of-band marking: only the root element of what the broker sends carries hx-swap-oob,
// and table parts travel inside a <template> (htmx unwraps it; the parser would drop a bare <tr>).
import { describe, expect, it } from 'vitest';
import { outOfBand } from '../../src/live/oob.js';

describe('outOfBand', () => {
  it('marks the root element only, at the end of its start tag', () => {
    expect(outOfBand('<div id="grid" class="g"><a id="tile" class="t">x</a></div>')).toBe('<div id="grid" class="g" hx-swap-oob="true"><a id="tile" class="t">x</a></div>');
  });

  it('takes another swap, and leaves surrounding whitespace out', () => {
    expect(outOfBand('\n  <div id="c1"><span>line</span></div>\n', 'beforeend:#log')).toBe('<div id="c1" hx-swap-oob="beforeend:#log"><span>line</span></div>');
  });

  it('wraps table parts in a template', () => {
    expect(outOfBand('<tr id="row"><td>1</td></tr>')).toBe('<template><tr id="row" hx-swap-oob="true"><td>1</td></tr></template>');
    expect(outOfBand('<tbody id="b"><tr><td>1</td></tr></tbody>', 'beforeend:#inbox')).toBe('<template><tbody id="b" hx-swap-oob="beforeend:#inbox"><tr><td>1</td></tr></tbody></template>');
  });

  it('handles an element with no attributes and a self-closing one', () => {
    expect(outOfBand('<section>x</section>')).toBe('<section hx-swap-oob="true">x</section>');
    expect(outOfBand('<hr id="r"/>')).toBe('<hr id="r" hx-swap-oob="true"/>');
  });

  it('refuses a fragment that does not start with an element', () => {
    expect(() => outOfBand('text <div id="x"></div>')).toThrow(/root element/);
  });
});
