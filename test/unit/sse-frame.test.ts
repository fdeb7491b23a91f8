// Whatever bytes cluster text holds, an SSE frame carries exactly one event, its data whole
// and its fields ours: checked with the EventSource parsing rules a browser applies.
import { describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/live/sse-frame.js';
import { HOSTILE_TEXTS } from '../helpers/hostile.js';
import { SseParser } from '../helpers/sse-parse.js';

describe('an SSE frame', () => {
  for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
    it(`carries ${name} text as exactly one event, whole`, () => {
      const parser = new SseParser();
      parser.push(formatEvent('boot-7', 'update', `<p>${text}</p>`));
      expect(parser.events).toHaveLength(1);
      expect(parser.events[0]).toEqual({ id: 'boot-7', event: 'update', data: `<p>${text.replace(/\r\n|\r/g, '\n')}</p>` });
      expect(parser.retry).toBeUndefined();
    });
  }

  it('survives being cut anywhere between chunks, a CRLF split in two included', () => {
    const frame = formatEvent('boot-8', 'update', HOSTILE_TEXTS.adbShell!) + formatEvent('boot-9', 'update', 'next');
    for (let cut = 1; cut < frame.length; cut++) {
      const parser = new SseParser();
      parser.push(frame.slice(0, cut));
      parser.push(frame.slice(cut));
      expect(parser.events.map((e) => e.id)).toEqual(['boot-8', 'boot-9']);
    }
  });

  it('keeps its own id and event name on one line', () => {
    const parser = new SseParser();
    parser.push(formatEvent('a\rretry: 1', 'up\ndate', 'x'));
    expect(parser.events).toEqual([{ id: 'aretry: 1', event: 'update', data: 'x' }]);
    expect(parser.retry).toBeUndefined();
  });
});
