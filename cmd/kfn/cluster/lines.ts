// A byte stream as lines, for `kfn logs`: each complete line as it arrives, a last line
// without a newline at the end, and nothing more once `signal` aborts.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export async function followLines(stream: Readable, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const stop = (): void => void stream.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of stream) {
      const lines = (partial + decoder.write(chunk as Buffer)).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
    return;
  } finally {
    signal.removeEventListener('abort', stop);
  }
  const last = partial + decoder.end();
  if (last !== '') onLine(last);
}
