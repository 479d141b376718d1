// The Go reverse proxy (bench/go-proxy, Knative's data path in miniature): found Go,
// built into dist/bench/go-proxy when its source is newer than the binary, run with the
// GOMAXPROCS the bench asks for.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { benchDist, repoRoot } from './paths.js';
import { runToEnd, startChild, type Child } from './proc.js';

const SOURCE_DIR = path.join(repoRoot, 'bench/go-proxy');
const BINARY = path.join(benchDist, 'go-proxy/go-proxy');

/** `go` on PATH, else Debian's versioned installs (/usr/lib/go-1.N/bin), newest first. */
export function findGo(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib').filter((d) => /^go(-\d+\.\d+)?$/.test(d));
  } catch {
    return undefined;
  }
  const minor = (d: string): number => Number(/^go-\d+\.(\d+)$/.exec(d)?.[1] ?? 0);
  for (const d of versions.sort((a, b) => minor(b) - minor(a))) {
    const go = path.join('/usr/lib', d, 'bin/go');
    if (existsSync(go)) return go;
  }
  return undefined;
}

async function mtimeMs(file: string): Promise<number> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Builds the proxy if needed; returns its path and Go's version, or why it cannot. */
export async function buildGoProxy(): Promise<{ binary: string; goVersion: string } | { unavailable: string }> {
  const go = findGo();
  if (!go) return { unavailable: 'Go is not installed (apt-get install golang-go, as root)' };
  // GOTOOLCHAIN=local: never download a toolchain; the module needs nothing past Go 1.19.
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const version = await runToEnd(go, ['version'], 10_000, { env });
  const goVersion = /go version (\S+)/.exec(version.stdout)?.[1] ?? 'unknown';
  const sources = [path.join(SOURCE_DIR, 'main.go'), path.join(SOURCE_DIR, 'go.mod')];
  const newest = Math.max(...(await Promise.all(sources.map(mtimeMs))));
  if ((await mtimeMs(BINARY)) < newest) {
    await mkdir(path.dirname(BINARY), { recursive: true });
    const built = await runToEnd(go, ['build', '-o', BINARY, '.'], 300_000, { cwd: SOURCE_DIR, env });
    if (built.code !== 0) return { unavailable: `go build failed (${goVersion}): ${built.stderr.trim()}` };
  }
  return { binary: BINARY, goVersion };
}

export function startGoProxy(binary: string, upstream: { host: string; port: number }, maxProcs: number): Child {
  return startChild('go-proxy', binary, [], {
    env: { PATH: process.env.PATH ?? '', GOMAXPROCS: String(maxProcs), BENCH_REPLICA: `${upstream.host}:${upstream.port}` },
  });
}
