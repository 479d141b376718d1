// Every component binary, run as a real process: --help and -h print every flag of its
// table (with the env variable and default) to stdout and exit 0; a bad command line or
// env value prints exactly one line naming the flag to stderr and exits 2, with nothing
// on stdout: no stack trace, no JSON log line, nothing started. Which inputs are refused
// and how is tabled in-process in test/cmd/settings.test.ts; this proves the wiring.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { activatorFlags } from '../../cmd/activator/flags.js';
import { autoscalerFlags } from '../../cmd/autoscaler/flags.js';
import { controllerFlags } from '../../cmd/controller/flags.js';
import { dispatcherFlags } from '../../cmd/dispatcher/flags.js';
import { envNameOf, type FlagTable } from '../../pkg/shared/flags.js';

// Under tsx the source runs; from dist/ (npm test) the compiled entry does.
const fromSource = import.meta.url.endsWith('.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test runner's environment without any KFN_* or NATS_URL, and no cluster to reach. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KFN_') && k !== 'NATS_URL') env[k] = v;
  // A binary that got past its flags would fail differently: exit 1, with log lines.
  return { ...env, KUBECONFIG: '/nonexistent/kubeconfig', ...extra };
}

async function runBinary(component: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const entry = fileURLToPath(new URL(`../../cmd/${component}/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** [component, its flag table, a bad command line, a bad env, what the one line says] */
const components: Array<[string, FlagTable, string[], Record<string, string>, RegExp]> = [
  ['activator', activatorFlags, ['--port', 'abc'], {}, /^kfn-activator: --port: want a port number \(0-65535\), got "abc" \(see kfn-activator --help\)\n$/],
  ['autoscaler', autoscalerFlags, ['--tick', '0s'], {}, /^kfn-autoscaler: --tick: must be a positive number, got "0s" \(see kfn-autoscaler --help\)\n$/],
  ['controller', controllerFlags, ['--no-such-flag'], {}, /^kfn-controller: unknown flag --no-such-flag \(see kfn-controller --help\)\n$/],
  ['dispatcher', dispatcherFlags, [], { KFN_HOST: 'localhost' }, /^kfn-dispatcher: --host: want an IP address such as 0\.0\.0\.0, 127\.0\.0\.1 or ::, got "localhost" \(see kfn-dispatcher --help\)\n$/],
];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('component binaries on the command line', () => {
  it('--help and -h print every flag with its env variable and default to stdout and exit 0', async () => {
    const runs = await Promise.all(components.flatMap(([c]) => [runBinary(c, ['--help']), runBinary(c, ['-h'])]));
    components.forEach(([component, table], i) => {
      for (const r of [runs[2 * i], runs[2 * i + 1]]) {
        assert.ok(r);
        assert.equal(r.code, 0, `kfn-${component}: ${r.stderr}`);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^Usage: kfn-${component} \\[flags\\]\\n`));
        for (const [name, spec] of Object.entries(table)) {
          const fallback = spec.default !== undefined ? `default ${escape(spec.default)}` : `default: ${escape(spec.defaultText ?? '')}`;
          assert.match(r.stdout, new RegExp(`\\n  --${name} <value>\\n      ${escape(spec.help)}\\n      env ${envNameOf(name)}; ${fallback}\\n`), `kfn-${component} --${name}`);
        }
        for (const common of ['host', 'metrics-port']) assert.ok(common in table, `kfn-${component} has --${common}`);
      }
    });
  });

  it('a bad flag or env value exits 2 with one line on stderr naming it, and nothing on stdout', async () => {
    const runs = await Promise.all(components.map(([c, , args, env]) => runBinary(c, args, env)));
    components.forEach(([component, , , , want], i) => {
      const r = runs[i];
      assert.ok(r);
      assert.equal(r.code, 2, `kfn-${component} exit code; stderr: ${r.stderr}`);
      assert.equal(r.stdout, '', `kfn-${component}: nothing on stdout`);
      assert.match(r.stderr, want);
    });
  });
});
