// Headers a publisher sets to steer JetStream's handling of one publish: Nats-Msg-Id
// (de-duplication), Nats-Expected-Stream / -Last-Sequence / -Last-Subject-Sequence /
// -Last-Msg-Id (optimistic concurrency), Nats-Rollup (purge the subject) and the like.
// JetStream stores them with the message. When kfn republishes an event (a dead letter, a
// redrive) they must not come along: they were the producer's conditions for its own
// publish, and would make kfn's refused, or worse, applied to another stream.

/** True for a `Nats-…` header, whatever its case. */
export function isJetStreamControlHeader(name: string): boolean {
  return name.toLowerCase().startsWith('nats-');
}
