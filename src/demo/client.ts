// The demo talks to the bridge the way a PBMS, an operator and a bank administrator would: over HTTP, with
// bearer tokens, through the public routes only.
import { g2pRequest } from '../api/g2p-request.js';

export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

export interface G2pAnswer<M> {
  header: { status: string; status_reason_code: string | null; status_reason_message: string | null };
  message: M;
}

export class BridgeClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 300_000,
  ) {}

  private async request(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ) {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (typeof body === 'string') payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DemoError(`${method} ${path}: the bridge did not answer (${(error as Error).message})`);
    }
    const text = await response.text();
    if (response.status === 401) {
      // The usual cause: a token minted from another secret (DATA_DIR or JWT_SECRET differ from the bridge's).
      throw new DemoError(
        `${method} ${path}: HTTP 401, the bridge refused the token. Pass --token (or G2P_TOKEN) with the roles ` +
          "admin and pbms, e.g. from 'g2p-bridge token admin,pbms' run with the bridge's DATA_DIR or JWT_SECRET",
      );
    }
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text };
  }

  async getJson<T>(path: string): Promise<T> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw new DemoError(`GET ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.json as T;
  }

  /** A non-G2P JSON call (admin endpoints); `ok` lists the statuses that count as success. */
  async call<T>(
    method: string,
    path: string,
    body: unknown,
    ok: number[] = [200, 201],
  ): Promise<{ status: number; body: T }> {
    const r = await this.request(method, path, body);
    if (!ok.includes(r.status))
      throw new DemoError(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return { status: r.status, body: r.json as T };
  }

  async postText<T>(path: string, text: string, contentType: string): Promise<T> {
    const r = await this.request('POST', path, text, { 'content-type': contentType });
    if (r.status !== 200) throw new DemoError(`POST ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.json as T;
  }

  /** A PBMS call in the G2P Connect envelope; answers the whole response (rjct included). */
  async g2p<M>(action: string, message: unknown, totalCount = 1): Promise<G2pAnswer<M>> {
    const body = g2pRequest(action, message, 'g2p-bridge-demo', { total_count: totalCount });
    const r = await this.request('POST', `/${action}`, body);
    const answer = r.json as G2pAnswer<M> | null;
    if (!answer?.header) throw new DemoError(`${action}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return answer;
  }

  /** Like g2p, but a rejection is an error naming its code. */
  async g2pOk<M>(action: string, message: unknown, totalCount = 1): Promise<M> {
    const answer = await this.g2p<M>(action, message, totalCount);
    if (answer.header.status === 'rjct') {
      throw new DemoError(
        `${action} was rejected: ${answer.header.status_reason_code} ${answer.header.status_reason_message ?? ''}`,
      );
    }
    return answer.message;
  }
}
