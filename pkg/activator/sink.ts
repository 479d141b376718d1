// What a request's way through the activator needs of the client's side, so the same
// throttler, queue and proxy serve two kinds of caller: node's HTTP server
// (IncomingMessage / ServerResponse satisfy these types as they are), and callers in the
// same process, such as kfn dev's dispatcher, whose request is a buffer and whose answer
// is collected in memory, without an HTTP hop on loopback.
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';

/**
 * The request body as a stream; `complete` once all of it arrived. `socket` is there for
 * a request that came over one (consistentHash on the client address reads it).
 */
export type RequestBody = Readable & { readonly complete: boolean; readonly socket?: { readonly remoteAddress?: string | undefined } };

/** The members of ServerResponse the activator uses. */
export interface ResponseSink {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  readonly statusCode: number;
  writeHead(status: number, statusText: string, headers: string[]): unknown;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  destroy(): unknown;
  addTrailers(headers: [string, string][]): void;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  off(event: 'close' | 'drain', listener: () => void): unknown;
}

/** A body that is all there from the start. */
export class BufferBody extends Readable implements RequestBody {
  readonly complete = true;

  constructor(body: Buffer) {
    super();
    if (body.length > 0) this.push(body);
    this.push(null);
  }

  override _read(): void {
    // everything was pushed up front
  }
}

export interface CollectedResponse {
  status: number;
  /** Lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export type CallResult = CollectedResponse | { error: string };

/** Collects the answer in memory; `result` settles once it is complete or cut. */
export class BufferedResponse extends EventEmitter implements ResponseSink {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  readonly result: Promise<CallResult>;
  private headers: Record<string, string | string[]> = {};
  private readonly chunks: Buffer[] = [];
  private settle!: (r: CallResult) => void;

  constructor() {
    super();
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  writeHead(status: number, a: string | Record<string, string | number>, b?: string[]): this {
    this.statusCode = status;
    this.headersSent = true;
    const headers = typeof a === 'string' ? (b ?? []) : Object.entries(a).flatMap(([k, v]) => [k, String(v)]);
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = (headers[i] as string).toLowerCase();
      const value = headers[i + 1] as string;
      const prev = this.headers[name];
      this.headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    return this;
  }

  write(chunk: Buffer): boolean {
    if (!this.destroyed && !this.writableFinished) this.chunks.push(chunk);
    return true;
  }

  end(chunk?: string | Buffer): this {
    if (this.destroyed || this.writableFinished) return this;
    if (chunk !== undefined) this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.headersSent = true;
    this.writableFinished = true;
    this.settle({ status: this.statusCode, headers: this.headers, body: Buffer.concat(this.chunks) });
    // As node's own response: 'close' after the end, not inside it.
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** Cuts the exchange: the activator stops the replica's work and frees its slot. */
  destroy(reason = 'the response was cut short'): this {
    if (this.destroyed || this.writableFinished) return this;
    this.destroyed = true;
    this.settle({ error: reason });
    process.nextTick(() => this.emit('close'));
    return this;
  }

  addTrailers(): void {
    // Trailers have nowhere to go in a collected response.
  }
}
