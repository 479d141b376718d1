// The bound of a cold burst, run as its own small process (as kfn's launcher is, so that
// neither pays for forking a large process): starts N kfn-node-runtime processes at once
// and prints, as one JSON array, the ms from the first spawn to each one's `listening`.
// Arguments: N, the runtime's bin, the handler folder.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const [n = '1', bin = '', dir = ''] = process.argv.slice(2);
const t0 = performance.timeOrigin + performance.now();
const children = Array.from({ length: Number(n) }, () =>
  spawn(bin, ['handler.js'], {
    cwd: dir,
    // KFN_PARENT_PID: should this process be killed, the runtimes exit too.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', KFN_HOST: '127.0.0.1', KFN_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
const times = await Promise.all(
  children.map(
    (child) =>
      new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`a runtime exited with ${code}`)));
        if (!child.stdout) return reject(new Error('no stdout'));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const l = JSON.parse(line) as { msg?: string; listeningAt?: number };
          if (l.msg === 'listening' && typeof l.listeningAt === 'number') resolve(l.listeningAt - t0);
        });
      }),
  ),
);
for (const c of children) c.kill('SIGKILL');
process.stdout.write(JSON.stringify(times) + '\n');
