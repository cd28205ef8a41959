// `start` hands the example bank's statements to its own upload route as a multipart body read in pieces,
// never one copy of the whole text: the pieces must make exactly the bytes of the whole, whatever the text.
import { describe, expect, it } from 'vitest';
import { statementBody } from '../../src/cli/commands/start.js';

const whole = (head: string, text: string, tail: string) =>
  Buffer.concat([Buffer.from(head), Buffer.from(text, 'utf8'), Buffer.from(tail)]);

describe('the in-process statement upload body', () => {
  it('is the bytes of head, text and tail, in pieces of at most the given size', () => {
    const text = ':20:EXB0000000001\r\n'.repeat(1000);
    const pieces = [...statementBody('HEAD\r\n', text, '\r\nTAIL', 4096)];
    expect(Buffer.concat(pieces).equals(whole('HEAD\r\n', text, '\r\nTAIL'))).toBe(true);
    expect(pieces.length).toBeGreaterThan(4);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4096);
  });

  it('never cuts a character in two: names outside Latin-1 and astral characters arrive intact', () => {
    // Every cut of 7 characters falls inside some surrogate pair of this text.
    const text = `<Nm>Ηλίας 😀 Ñúñez 𝄞 ${'😀'.repeat(500)} 李雷</Nm>`;
    for (const size of [1, 2, 3, 7, 64]) {
      const pieces = [...statementBody('', text, '', size)];
      expect(Buffer.concat(pieces).toString('utf8')).toBe(text);
      for (const p of pieces) expect(p.toString('utf8')).not.toContain('\ufffd');
    }
  });

  it('an empty text: head and tail only', () => {
    expect(Buffer.concat([...statementBody('H', '', 'T')]).toString()).toBe('HT');
  });
});
