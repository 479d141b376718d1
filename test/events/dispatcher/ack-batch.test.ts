import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsMsg } from 'nats';
import { AckBatch } from '../../../pkg/events/dispatcher/ack-batch.js';
import { waitFor } from '../../util/wait.js';

/** Only ack() is used; the rest of JsMsg is never touched. */
function msg(onAck: () => void): JsMsg {
  return { ack: onAck } as unknown as JsMsg;
}

describe('AckBatch', () => {
  it('sends the acks of one loop turn together, after it, and each exactly once', async () => {
    const acked: number[] = [];
    const batch = new AckBatch();
    for (let i = 0; i < 3; i++) batch.ack(msg(() => acked.push(i)));
    assert.deepEqual(acked, [], 'not inside the turn that settled them');
    await waitFor('the batch sent', () => acked.length === 3);
    assert.deepEqual(acked, [0, 1, 2]);
    batch.flush();
    assert.deepEqual(acked, [0, 1, 2], 'a flush with nothing queued sends nothing');
  });

  it('an ack that throws (connection closed) does not stop the others', () => {
    const acked: string[] = [];
    const batch = new AckBatch();
    batch.ack(msg(() => acked.push('a')));
    batch.ack(
      msg(() => {
        throw new Error('connection closed');
      }),
    );
    batch.ack(msg(() => acked.push('c')));
    batch.flush();
    assert.deepEqual(acked, ['a', 'c']);
  });
});
