import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliverPolicy } from 'nats';
import { restartPosition, type RestartKnowledge } from '../../../pkg/events/dispatcher/consumer-restart.js';

describe('restartPosition: where a lost consumer starts again', () => {
  const base: RestartKnowledge = { unsettled: [], streamLastSeq: 100, streamIsNewer: false };
  const rows: Array<{ name: string; k: RestartKnowledge; want: ReturnType<typeof restartPosition> }> = [
    { name: 'events in hand: the lowest of them, whatever was seen after', k: { ...base, unsettled: [44, 41], highestSeen: 45, ackFloor: 40 }, want: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 41 } },
    { name: 'nothing in hand: the one after all that was seen', k: { ...base, highestSeen: 45, ackFloor: 40 }, want: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 46 } },
    { name: 'nothing seen since the start: after the old ack floor', k: { ...base, ackFloor: 60 }, want: { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 61 } },
    { name: 'nothing known at all: the whole stream is new to the trigger', k: base, want: { deliver_policy: DeliverPolicy.All } },
    { name: 'a stream made after the old consumer (both lost): from its start', k: { ...base, highestSeen: 45, streamIsNewer: true }, want: { deliver_policy: DeliverPolicy.All } },
    { name: 'a stream shorter than what was seen (its sequences started over): from its start', k: { ...base, highestSeen: 45, streamLastSeq: 3 }, want: { deliver_policy: DeliverPolicy.All } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(restartPosition(row.k), row.want));
});
