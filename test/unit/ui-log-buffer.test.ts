import { describe, expect, it } from 'vitest';
import { cleanLine, FOLLOW, LogRing, scrollBy, scrollToTop, visibleLines } from '../../src/ui/log-buffer.js';

const texts = (lines: { text: string }[]) => lines.map((line) => line.text);

function ringOf(count: number, capacity = 100): LogRing {
  const ring = new LogRing(capacity);
  for (let index = 0; index < count; index++) ring.push(`line ${index}`);
  return ring;
}

describe('log ring buffer', () => {
  it('keeps at most its capacity, dropping the oldest lines', () => {
    const ring = ringOf(250, 100);
    expect(ring.size).toBe(100);
    const lines = ring.lines();
    expect(lines[0]).toEqual({ seq: 150, text: 'line 150' });
    expect(lines.at(-1)).toEqual({ seq: 249, text: 'line 249' });
  });

  it('filters case-insensitively and clears', () => {
    const ring = new LogRing(10);
    for (const text of ['Docker started', 'apt: ok', 'docker: ERROR pulling']) ring.push(text);
    expect(texts(ring.lines('docker'))).toEqual(['Docker started', 'docker: ERROR pulling']);
    ring.clear();
    expect(ring.lines()).toEqual([]);
  });
});

describe('follow and scroll', () => {
  const height = 10;

  it('follows the end as lines arrive', () => {
    const ring = ringOf(30);
    expect(texts(visibleLines(ring.lines(), FOLLOW, height))).toEqual(Array.from({ length: 10 }, (_, i) => `line ${20 + i}`));
    ring.push('line 30');
    expect(visibleLines(ring.lines(), FOLLOW, height).at(-1)?.text).toBe('line 30');
  });

  it('PgUp stops following: new lines no longer move the view; End resumes following', () => {
    const ring = ringOf(50);
    const view = scrollBy(ring.lines(), FOLLOW, height, -height);
    expect(view.follow).toBe(false);
    expect(visibleLines(ring.lines(), view, height)[0]?.text).toBe('line 30');
    for (let index = 50; index < 80; index++) ring.push(`line ${index}`);
    expect(visibleLines(ring.lines(), view, height)[0]?.text).toBe('line 30');
    expect(visibleLines(ring.lines(), FOLLOW, height).at(-1)?.text).toBe('line 79');
  });

  it('PgDn back to the end resumes following; Home goes to the oldest line', () => {
    const ring = ringOf(50);
    const lines = ring.lines();
    const up = scrollBy(lines, FOLLOW, height, -height);
    expect(scrollBy(lines, up, height, height)).toEqual(FOLLOW);
    const top = scrollToTop(lines);
    expect(visibleLines(lines, top, height)[0]?.text).toBe('line 0');
    expect(scrollBy(lines, top, height, -1)).toEqual(top);
    expect(visibleLines(lines, scrollBy(lines, top, height, 1), height)[0]?.text).toBe('line 1');
  });

  it('a view on lines the ring has dropped shows the oldest lines still held', () => {
    const ring = ringOf(100, 100);
    const top = scrollToTop(ring.lines());
    for (let index = 100; index < 150; index++) ring.push(`line ${index}`);
    expect(visibleLines(ring.lines(), top, height)[0]?.text).toBe('line 50');
  });

  it('scrolls within the filtered lines', () => {
    const ring = new LogRing(100);
    for (let index = 0; index < 60; index++) ring.push(index % 2 ? `odd ${index}` : `even ${index}`);
    const odd = ring.lines('odd');
    const view = scrollBy(odd, FOLLOW, height, -height);
    expect(texts(visibleLines(odd, view, height))).toEqual(Array.from({ length: 10 }, (_, i) => `odd ${21 + 2 * i}`));
  });
});

describe('log lines', () => {
  it('loses colour codes, cursor moves and control characters; keeps the text', () => {
    expect(cleanLine('\x1b[1;32m==> vagrant1:\x1b[0m Booting\tVM\r\x07')).toBe('==> vagrant1: Booting    VM');
  });
});
