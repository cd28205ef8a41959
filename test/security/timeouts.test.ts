// Slow clients must not hold connections open: a request body that dribbles in is cut at REQUEST_TIMEOUT_MS,
// and a request refused before its body has arrived (a 401) has its connection closed at once.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';

interface Dribble {
  /** Everything the server sent before it closed the connection. */
  answer: string;
  /** Body bytes sent before the connection closed. */
  sent: number;
}

/**
 * Sends the request line and headers of a POST announcing `length` body bytes, then one byte at a time
 * (a slow client), until the server closes the connection. Never finishes the body by itself.
 */
function dribble(port: number, path: string, headers: Record<string, string>, length: number) {
  return new Promise<Dribble>((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => {}); // a reset while writing is also a close
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, sent });
    });
    socket.on('connect', () => {
      const head = Object.entries({ host: '127.0.0.1', 'content-type': 'application/json', ...headers })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`POST ${path} HTTP/1.1\r\n${head}content-length: ${length}\r\n\r\n{`);
      sent = 1;
      timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return;
        if (sent >= length - 1) {
          clearInterval(timer);
          reject(new Error('the whole body was sent: the server never closed the connection'));
          return;
        }
        socket.write(' ');
        sent++;
      }, 20);
    });
  });
}

async function listening(overrides: Record<string, string>): Promise<{ t: TestApp; port: number }> {
  const t = await testApp(overrides);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, port: (t.app.server.address() as { port: number }).port };
}

describe('slow request bodies', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    t?.app.server.closeAllConnections(); // a failed test leaves its dribbling socket open
    await t?.close();
    t = undefined;
  });

  it('are cut off at REQUEST_TIMEOUT_MS with 408, even with a valid token', async () => {
    const s = await listening({ REQUEST_TIMEOUT_MS: '400', CONNECTION_TIMEOUT_MS: '600000' });
    t = s.t;
    const token = await t.token('pbms');
    // 1,000,000 bytes at one per 20 ms would take hours: only the server's deadline can end this.
    const r = await dribble(
      s.port,
      '/create_disbursement_envelope',
      { authorization: `Bearer ${token}` },
      1_000_000,
    );
    expect(r.sent).toBeLessThan(1_000_000);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('close the connection right after a 401, without waiting for the rest of the body', async () => {
    // Deadlines far beyond the test's own timeout: only the refusal can close this connection.
    const s = await listening({ REQUEST_TIMEOUT_MS: '3600000', CONNECTION_TIMEOUT_MS: '3600000' });
    t = s.t;
    const r = await dribble(s.port, '/create_disbursement_envelope', {}, 1_000_000);
    expect(r.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.answer.toLowerCase()).toContain('connection: close');
    expect(r.sent).toBeLessThan(1_000_000);
  });

  it('close the connection after a 403 too (wrong role, body still arriving)', async () => {
    const s = await listening({ REQUEST_TIMEOUT_MS: '3600000', CONNECTION_TIMEOUT_MS: '3600000' });
    t = s.t;
    const token = await t.token('bank');
    const r = await dribble(
      s.port,
      '/create_disbursement_envelope',
      { authorization: `Bearer ${token}` },
      1_000_000,
    );
    expect(r.answer).toMatch(/^HTTP\/1\.1 403 /);
  });

  it('idle connections are closed after CONNECTION_TIMEOUT_MS', async () => {
    const s = await listening({ REQUEST_TIMEOUT_MS: '3600000', CONNECTION_TIMEOUT_MS: '300' });
    t = s.t;
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(s.port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => {
        answer += c;
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(answer));
      // Half a request line, then silence.
      socket.on('connect', () => socket.write('GET /pi'));
    });
    expect(closed).not.toMatch(/200 OK/);
  });
});
