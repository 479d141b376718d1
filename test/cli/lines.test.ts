// `kfn logs` splits a pod's byte stream into lines: nothing lost or mangled at chunk
// boundaries (a UTF-8 character split in two included), CRLF trimmed, a last line
// without a newline still printed.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { followLines } from '../../cmd/kfn/cluster/lines.js';

async function lines(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  await followLines(Readable.from(chunks), (l) => out.push(l), new AbortController().signal);
  return out;
}

it('joins lines split across chunks, including inside a UTF-8 character', async () => {
  const bytes = Buffer.from('héllo wörld\nsecond\r\nlast without newline');
  const at = bytes.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
  assert.deepEqual(await lines([bytes.subarray(0, at), bytes.subarray(at, 20), bytes.subarray(20)]), ['héllo wörld', 'second', 'last without newline']);
});

it('an empty stream is no lines; an empty line is kept', async () => {
  assert.deepEqual(await lines([]), []);
  assert.deepEqual(await lines([Buffer.from('a\n\nb\n')]), ['a', '', 'b']);
});

it('stops without an error when aborted mid-stream', async () => {
  const ac = new AbortController();
  const stream = new Readable({ read() {} });
  const out: string[] = [];
  const done = followLines(stream, (l) => {
    out.push(l);
    ac.abort();
  }, ac.signal);
  stream.push('one\ntwo');
  await done;
  assert.deepEqual(out, ['one']);
});
