// A follow's lines between pod and page: chunks are bounded with a notice for what they
// skip, the tail is what the chunks sent add up to, and a restarted follow that re-reads
// what viewers have appends only what is new.
import { describe, expect, it } from 'vitest';
import { LogBuffer } from '../../src/live/log-buffer.js';

const limits = { tailLines: 5, tailBytes: 1024, chunkBytes: 20, lineChars: 100 };
const text = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''));

describe('LogBuffer', () => {
  it('sends whole lines only, the last one when the stream ends', () => {
    const b = new LogBuffer(limits, 'ns', 's');
    expect(b.push(Buffer.from('one\ntw'))).toBe(true);
    expect(b.push(Buffer.from('o'))).toBe(false);
    const first = b.takeChunk()!;
    expect(first).toEqual({ append: true, lines: ['one'] });
    b.commit(first);
    expect(b.end()).toBe(true);
    const last = b.takeChunk()!;
    b.commit(last);
    expect(b.tail).toEqual(['one', 'two']);
    expect(b.takeChunk()).toBeUndefined();
  });

  it('bounds a chunk by bytes and says how many lines it skipped', () => {
    const b = new LogBuffer(limits, 'ns', 's');
    b.push(text('aaaaaaaa', 'bbbbbbbb', 'cccccccc'));
    const chunk = b.takeChunk()!;
    expect(chunk.lines.slice(1)).toEqual(['bbbbbbbb', 'cccccccc']);
    expect(chunk.lines[0]).toMatch(/^\[dashboard\] … 1 line not shown/);
  });

  it('keeps the tail within its bounds, newest lines last', () => {
    const b = new LogBuffer({ ...limits, chunkBytes: 1024 }, 'ns', 's');
    for (let i = 0; i < 8; i++) {
      b.push(text(`line ${i}`));
      b.commit(b.takeChunk()!);
    }
    expect(b.tail).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
  });

  it('after a restart, appends only what follows the lines viewers have, else replaces them', () => {
    const b = new LogBuffer({ ...limits, chunkBytes: 1024 }, 'ns', 's');
    b.push(text('a', 'b'));
    b.commit(b.takeChunk()!);
    b.replaceNext = true;
    b.push(text('a', 'b', 'c'));
    const cont = b.takeChunk()!;
    expect(cont).toEqual({ append: true, lines: ['c'] });
    b.commit(cont);
    b.replaceNext = true;
    b.push(text('x'));
    const fresh = b.takeChunk()!;
    expect(fresh).toEqual({ append: false, lines: ['x'] });
    b.commit(fresh);
    expect(b.tail).toEqual(['x']);
  });
});
