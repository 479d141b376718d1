// Each component's settings from its command line and env, in-process: defaults come from
// the same table --help prints, and every bad input is refused with a UsageError whose
// one line names the flag (the binaries print it and exit 2: command-line.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activatorFlags, activatorSettings } from '../../cmd/activator/flags.js';
import { autoscalerSettings } from '../../cmd/autoscaler/flags.js';
import { controllerSettings } from '../../cmd/controller/flags.js';
import { dispatcherSettings } from '../../cmd/dispatcher/flags.js';
import { parseFlags, UsageError } from '../../pkg/shared/flags.js';

type Settings = (argv: string[], env: NodeJS.ProcessEnv) => unknown;
const components: Array<[string, Settings]> = [
  ['activator', activatorSettings],
  ['autoscaler', autoscalerSettings],
  ['controller', controllerSettings],
  ['dispatcher', dispatcherSettings],
];

/** [what, argv, env, the message] — refused by every component. */
const refusedByAll: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
  ['an unknown flag', ['--no-such-flag'], {}, /^unknown flag --no-such-flag$/],
  ['an unknown short flag', ['-x'], {}, /^unknown flag -x$/],
  ['a flag without its value', ['--metrics-port'], {}, /^--metrics-port: want a value/],
  ['a flag whose value looks like a flag', ['--metrics-port', '--host'], {}, /^--metrics-port: want a value/],
  ['an empty value', ['--metrics-port='], {}, /^--metrics-port: want a value/],
  ['a port that is not a number', ['--metrics-port', 'abc'], {}, /^--metrics-port: want a port number \(0-65535\), got "abc"$/],
  ['a port with a fraction', ['--metrics-port', '80.5'], {}, /^--metrics-port: want a port number/],
  ['a port in hex', ['--metrics-port', '0x50'], {}, /^--metrics-port: want a port number/],
  ['a port above 65535', ['--metrics-port', '65536'], {}, /^--metrics-port: want a port number/],
  ['a bad value from the env variable', [], { KFN_METRICS_PORT: '99999' }, /^--metrics-port: want a port number/],
  ['a host name as the listen address', ['--host', 'localhost'], {}, /^--host: want an IP address/],
  ['an address with a port', ['--host', '127.0.0.1:80'], {}, /^--host: want an IP address/],
  ['a stray argument', ['serve'], {}, /^unexpected argument "serve"/],
  ['a value given to --help', ['--help=yes'], {}, /^--help: takes no value$/],
];

describe('component settings', () => {
  for (const [component, settings] of components) {
    for (const [what, argv, env, want] of refusedByAll) {
      it(`kfn-${component} refuses ${what}, naming the flag`, () => {
        assert.throws(() => settings(argv, env), (err: unknown) => err instanceof UsageError && want.test(err.message));
      });
    }
    it(`kfn-${component} listens on 0.0.0.0 by default, on --host, else on KFN_HOST`, () => {
      const host = (argv: string[], env: NodeJS.ProcessEnv): unknown => (settings(argv, env) as { host: string }).host;
      assert.equal(host([], {}), '0.0.0.0');
      assert.equal(host([], { KFN_HOST: '::' }), '::');
      assert.equal(host(['--host', '127.0.0.1'], { KFN_HOST: '::' }), '127.0.0.1');
      assert.equal(host(['--host=::1'], {}), '::1');
    });
  }

  const refused: Array<[string, Settings, string[], RegExp]> = [
    ['kfn-activator', activatorSettings, ['--port', '-1'], /^--port: want a value/],
    ['kfn-activator', activatorSettings, ['--autoscaler-url', 'kfn-autoscaler:8080'], /^--autoscaler-url: want a http: or https: URL/],
    ['kfn-activator', activatorSettings, ['--queue-depth', '0'], /^--queue-depth: want an integer >= 1/],
    ['kfn-autoscaler', autoscalerSettings, ['--tick', '0'], /^--tick: want a duration such as 60s, got "0"$/],
    ['kfn-autoscaler', autoscalerSettings, ['--tick', '0s'], /^--tick: must be a positive number, got "0s"$/],
    ['kfn-autoscaler', autoscalerSettings, ['--stable-window', '100ms'], /^--stable-window: want at least 1s \(one concurrency bucket\), got "100ms"$/],
    ['kfn-autoscaler', autoscalerSettings, ['--target-utilization-percentage', '150'], /^--target-utilization-percentage: must be in \(0, 100\], got "150"$/],
    ['kfn-autoscaler', autoscalerSettings, ['--initial-scale', '1.5'], /^--initial-scale: must be a whole number, zero or more, got "1.5"$/],
    ['kfn-autoscaler', autoscalerSettings, ['--enable-scale-to-zero', 'yes'], /^--enable-scale-to-zero: want true or false/],
    ['kfn-controller', controllerSettings, ['--lease-duration', '15'], /^--lease-duration: want a duration/],
    ['kfn-controller', controllerSettings, ['--workers', '0'], /^--workers: want an integer >= 1/],
    ['kfn-controller', controllerSettings, ['--drain-action', 'wait'], /^--drain-action: want sleep, exec or none/],
    ['kfn-controller', controllerSettings, ['--nats-url', 'nats://a:4222,http://b'], /^--nats-url: want a nats: or tls: or ws: or wss: URL/],
    ['kfn-dispatcher', dispatcherSettings, ['--stats-interval', '0s'], /^--stats-interval: want a duration/],
  ];
  for (const [component, settings, argv, want] of refused) {
    it(`${component} refuses ${argv.join(' ')}, naming the flag`, () => {
      assert.throws(() => settings(argv, {}), (err: unknown) => err instanceof UsageError && want.test(err.message));
    });
  }

  it('takes the defaults --help shows', () => {
    const s = activatorSettings([], { POD_NAME: 'act-0' });
    assert.equal(s.port, Number(activatorFlags.port.default));
    assert.equal(s.metricsPort, Number(activatorFlags['metrics-port'].default));
    assert.equal(s.autoscalerUrl, activatorFlags['autoscaler-url'].default);
    assert.equal(s.domain, activatorFlags.domain.default);
    const a = autoscalerSettings([], {});
    assert.deepEqual(a.config, { stableWindowMs: 60_000, panicWindowPercentage: 10, panicThresholdPercentage: 200, targetConcurrency: 100, targetRequestsPerSecond: 200, targetUtilizationPercentage: 70, scaleToZeroGracePeriodMs: 30_000, scaleDownDelayMs: 0, initialScale: 1, tickIntervalMs: 2000, enableScaleToZero: true });
    const c = controllerSettings([], { NATS_URL: 'nats://env:4222' });
    assert.equal(c.natsUrl, 'nats://env:4222');
    assert.equal(controllerSettings(['--nats-url', 'nats://flag:4222'], { NATS_URL: 'nats://env:4222' }).natsUrl, 'nats://flag:4222');
  });

  it('parseFlags: a flag wins over its env variable, which wins over the default; an empty env counts as unset', () => {
    const table = { port: { help: 'p', default: '8080' } };
    assert.equal(parseFlags([], table, {}).values.port, '8080');
    assert.equal(parseFlags([], table, { KFN_PORT: '' }).values.port, '8080');
    assert.equal(parseFlags([], table, { KFN_PORT: '1' }).values.port, '1');
    assert.equal(parseFlags(['--port', '2'], table, { KFN_PORT: '1' }).values.port, '2');
    assert.equal(parseFlags(['-h'], table, {}).help, true);
  });
});
