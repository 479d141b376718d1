// Where a Trigger's consumer starts again when it disappeared while the Trigger ran
// (deleted by hand with NATS credentials, or lost with the server's store). Pure: the
// runner says what it knows, this says where to start.
//
// The stream keeps events after they were delivered (limits retention), so a consumer
// made anew with DeliverPolicy.All would hand out the Trigger's whole history again, and
// one with DeliverPolicy.New would skip what arrived while it was gone. The right start is
// the first event the Trigger has not settled: the lowest one still in the dispatcher's
// hands, else the one after everything it saw or the old consumer had acknowledged.
import { DeliverPolicy, type ConsumerConfig } from 'nats';

export interface RestartKnowledge {
  /** Stream sequences of the events the runner holds, not yet settled. */
  unsettled: readonly number[];
  /** The highest stream sequence the runner was handed, if any. */
  highestSeen?: number;
  /** The old consumer's ack floor (every event up to it settled), when its info was read. */
  ackFloor?: number;
  /** The stream's last sequence now. */
  streamLastSeq: number;
  /** The stream was made after the old consumer (it was lost too): its sequences started over. */
  streamIsNewer: boolean;
}

export type RestartPosition = Pick<ConsumerConfig, 'deliver_policy' | 'opt_start_seq'>;

/**
 * The first unsettled event the runner knows of. With no knowledge at all, or a stream
 * made anew (newer than the old consumer, or shorter than what was seen: its sequences
 * started over), everything the stream holds is new to the Trigger.
 *
 * Worked example: the runner holds 41 and 44 (42 and 43 were acked), saw up to 45, the
 * old ack floor was 40 → start at 41; 42 and 43 come again (at least once), nothing is
 * skipped.
 */
export function restartPosition(k: RestartKnowledge): RestartPosition {
  const known = Math.max(k.highestSeen ?? 0, k.ackFloor ?? 0);
  if (known === 0 || k.streamIsNewer || k.streamLastSeq < known) return { deliver_policy: DeliverPolicy.All };
  const start = k.unsettled.length > 0 ? Math.min(...k.unsettled) : known + 1;
  return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start };
}
