// kfn runs on one Node major. The README's two commands must still work on a machine whose
// own Node is another one (these machines have 20), by running on the Node.js 24 they install
// from the npm registry into .kfn/, and say clearly what to do where that cannot work. These
// tests run scripts/node.sh and bin/kfn as a shell would, with stand-in `node` and `uname`
// commands first on PATH where a machine unlike this one is needed.
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../util/process.js';

// From test/scripts/ under tsx, from dist/test/scripts/ once built.
const root = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../..' : '../../..', import.meta.url));
const pinned = (await readFile(path.join(root, '.node-version'), 'utf8')).trim();
const major = pinned.split('.')[0]!;

/** Sources scripts/node.sh of `at` in bash with `dir` first on PATH; prints the node it chose. */
function sourceNodeSh(dir: string, at = root): ReturnType<typeof runProcess> {
  return runProcess('bash', ['-c', 'source scripts/node.sh && command -v node && node --version'], {
    cwd: at,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
  });
}

describe('the Node.js kfn runs on', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-node-version-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is one major: engines, .node-version, the Dockerfile and the Node running the tests agree', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.match(pinned, /^\d+\.\d+\.\d+$/);
    assert.equal(pkg.engines.node, `>=${major}.11.0 <${Number(major) + 1}`);
    assert.match(await readFile(path.join(root, 'Dockerfile'), 'utf8'), new RegExp(`^ARG NODE_IMAGE=node:${major}-slim$`, 'm'));
    // npm test runs the suite on that major, whatever the machine has.
    assert.equal(process.versions.node.split('.')[0], major);
  });

  it('is left alone when the machine already has that major', async () => {
    const bin = path.join(dir, 'same');
    await runProcess('mkdir', ['-p', bin]);
    await runProcess('ln', ['-sf', process.execPath, path.join(bin, 'node')]);
    const r = await sourceNodeSh(bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], path.join(bin, 'node'));
    assert.equal(r.stderr, '', 'nothing installed, nothing said');
  });

  it('on a machine with Node 20, runs the Node.js 24 installed into .kfn/', async (t) => {
    if (!existsSync(path.join(root, '.kfn', `node-${pinned}`, 'bin', 'node'))) {
      t.skip('this machine has Node.js 24 itself, so npm test installed none into .kfn/');
      return;
    }
    const bin = path.join(dir, 'old');
    await runProcess('mkdir', ['-p', bin]);
    await writeFile(path.join(bin, 'node'), '#!/bin/sh\necho 20.20.2\n');
    await chmod(path.join(bin, 'node'), 0o755);
    const r = await sourceNodeSh(bin);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [path.join(root, '.kfn', `node-${pinned}`, 'bin', 'node'), `v${pinned}`]);
  });

  it('where the npm registry ships no Node for the platform, stops and says what to install', async () => {
    const bin = path.join(dir, 'bsd');
    await runProcess('mkdir', ['-p', bin]);
    await writeFile(path.join(bin, 'node'), '#!/bin/sh\necho 20.20.2\n');
    await writeFile(path.join(bin, 'uname'), '#!/bin/sh\ncase "$1" in -s) echo FreeBSD;; -m) echo amd64;; esac\n');
    await chmod(path.join(bin, 'node'), 0o755);
    await chmod(path.join(bin, 'uname'), 0o755);
    // A checkout of its own, without the .kfn/ this one may have.
    const checkout = path.join(dir, 'checkout');
    await runProcess('mkdir', ['-p', path.join(checkout, 'scripts')]);
    await copyFile(path.join(root, 'scripts', 'node.sh'), path.join(checkout, 'scripts', 'node.sh'));
    await copyFile(path.join(root, '.node-version'), path.join(checkout, '.node-version'));
    const r = await sourceNodeSh(bin, checkout);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`kfn runs on Node.js ${major}, and this machine has 20\\.20\\.2`));
    assert.match(r.stderr, /could not be installed from the npm registry for FreeBSD\/amd64/);
    assert.match(r.stderr, /Install Node.js \d+ yourself \(https:\/\/nodejs.org/);
  });

  it("bin/kfn started by another major runs itself on .kfn's Node.js 24, or says what to do", async (t) => {
    const other = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((p) => existsSync(p) && p !== process.execPath);
    const probe = other ? await runProcess(other, ['-p', 'process.versions.node']) : undefined;
    if (!other || !probe || probe.stdout.trim().split('.')[0] === major) {
      t.skip(`no Node other than ${major} on this machine`);
      return;
    }
    const r = await runProcess(other, [path.join(root, 'bin', 'kfn'), 'help']);
    if (existsSync(path.join(root, '.kfn', `node-${pinned}`, 'bin', 'node'))) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^kfn — serverless functions/);
    } else {
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`kfn runs on Node.js ${major}, and this is Node.js ${probe.stdout.trim()}\\. Run \`npm start\` once`));
    }
  });
});
