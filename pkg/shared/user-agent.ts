// How kfn names itself to the servers it talks to: the Kubernetes API server (audit
// logs, and managedFields: a write without ?fieldManager= is recorded under the
// User-Agent up to its first "/", k8s.io/apiserver's managerOrUserAgent),
// NATS (a connection's name in connz), and the HTTP services it calls itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/**
 * kfn's version from its package.json, read once. Found by walking up from this file:
 * it is two levels up in a checkout run by tsx (pkg/shared/), three from dist/ and in the
 * image (/opt/kfn/dist/pkg/shared/ under /opt/kfn/package.json, see the Dockerfile).
 */
export function kfnVersion(): string {
  version ??= findVersion(path.dirname(fileURLToPath(import.meta.url)));
  return version;
}

function findVersion(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'kfn' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here, or not one we can read: look further up.
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/**
 * `kfn-controller/0.1.0 (linux/x64) node/v20.19.0`: the shape client-go gives its
 * binaries (`kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc123`), so the
 * API server's default field manager for this client is `kfn-controller`.
 */
export function userAgent(component: string): string {
  return `${component}/${kfnVersion()} (${process.platform}/${process.arch}) node/${process.version}`;
}
