// The dispatcher's settings from flags and env: defaults that suit config/, NATS_URL as
// NATS clients spell it, and bad values refused with the flag's name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ACTIVATOR_URL, DEFAULT_MAX_EVENT_BYTES, dispatcherSettings } from '../../cmd/dispatcher/flags.js';
import { CLUSTER_NATS_URL } from '../../pkg/events/jetstream/stream.js';

describe('dispatcher settings', () => {
  it('defaults to the Services of config/ and the KFN stream', () => {
    const s = dispatcherSettings([], { POD_NAME: 'kfn-dispatcher-abc' });
    assert.equal(s.natsUrl, CLUSTER_NATS_URL);
    assert.equal(s.activatorUrl, DEFAULT_ACTIVATOR_URL);
    assert.equal(s.stream, 'KFN');
    assert.equal(s.port, 8080);
    assert.equal(s.metricsPort, 9090);
    assert.equal(s.maxEventBytes, DEFAULT_MAX_EVENT_BYTES);
    assert.equal(s.ackWaitMs, 30_000);
    assert.equal(s.instance, 'kfn-dispatcher-abc');
  });

  it('takes NATS_URL from the environment, and a flag over it', () => {
    assert.equal(dispatcherSettings([], { NATS_URL: 'nats://a:4222,nats://b:4222' }).natsUrl, 'nats://a:4222,nats://b:4222');
    assert.equal(dispatcherSettings(['--nats-url', 'nats://flag:4222'], { NATS_URL: 'nats://env:4222' }).natsUrl, 'nats://flag:4222');
  });

  it('reads every flag', () => {
    const s = dispatcherSettings(['--port', '0', '--metrics-port', '0', '--stream', 'EVENTS', '--max-event-bytes', '1024', '--ack-wait', '5s', '--stats-interval', '1s', '--activator-url', 'http://127.0.0.1:1/'], {});
    assert.deepEqual(
      { port: s.port, metricsPort: s.metricsPort, stream: s.stream, maxEventBytes: s.maxEventBytes, ackWaitMs: s.ackWaitMs, statsIntervalMs: s.statsIntervalMs, activatorUrl: s.activatorUrl },
      { port: 0, metricsPort: 0, stream: 'EVENTS', maxEventBytes: 1024, ackWaitMs: 5000, statsIntervalMs: 1000, activatorUrl: 'http://127.0.0.1:1/' },
    );
  });

  const bad: [string[], RegExp][] = [
    [['--activator-url', 'nats://x:4222'], /--activator-url: want a http: or https: URL/],
    [['--nats-url', 'http://x'], /--nats-url: want a nats:/],
    [['--max-event-bytes', '0'], /--max-event-bytes: want an integer >= 1/],
    [['--ack-wait', 'soon'], /--ack-wait: want a duration/],
    [['--port', '-1'], /--port/],
  ];
  for (const [argv, want] of bad) {
    it(`refuses ${argv.join(' ')} naming the flag`, () => assert.throws(() => dispatcherSettings(argv, {}), want));
  }
});
