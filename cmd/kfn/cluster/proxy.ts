// How `kfn invoke` reaches a function on a cluster: through the API server's service proxy
// to the activator,
//   /api/v1/namespaces/kfn-system/services/kfn-activator:http/proxy/<ns>/<name><path>
// and the activator's path routing (`/<namespace>/<name>/…`, prefix stripped; see
// pkg/activator/routes.ts). Why the service proxy: it needs no LoadBalancer, Ingress or
// port-forward, it uses the user's own kubeconfig credentials and RBAC (the `services/proxy`
// resource, verb per HTTP method: get, create, update, patch, delete), and it works
// wherever kubectl works. What the API server does on the way (kube-apiserver's
// service ProxyREST and UpgradeAwareHandler):
// - it appends the path after `proxy` to the endpoint with path.Join, so the path is
//   cleaned (`.`/`..` segments and `//` collapsed; a trailing slash kept) — which is why a
//   dot segment is refused here rather than silently changed, and the query is forwarded;
// - its authentication filter deletes Authorization once it has authenticated the user,
//   so a function never sees the user's cluster credentials, and cannot get an
//   Authorization header of its own through this route;
// - the request is long-running (the `proxy` subresource is exempt from
//   --request-timeout), but bytes per second may be capped by the server's
//   per-connection bandwidth limit; the response goes through its rewriting transport
//   (links in text/html and Location rewritten to stay under the proxy path) and
//   CORS headers are removed;
// - the activator sees the API server's Host, not `<name>.<namespace>.<domain>`, so it
//   routes by path (a Host naming no function falls through to path routing).
import { CliError } from '../client.js';

// config/400-activator.yaml: Service kfn-activator in kfn-system, port named http.
export const ACTIVATOR_NAMESPACE = 'kfn-system';
export const ACTIVATOR_SERVICE = 'kfn-activator';
export const ACTIVATOR_PORT_NAME = 'http';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 3986 pchar, plus an already percent-encoded octet. */
const PCHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}/y;

/** The API server path that reaches `<ns>/<name><path>` through the activator; throws CliError for a path it would rewrite. */
export function activatorProxyPath(namespace: string, name: string, path: string): string {
  for (const [what, v] of [['namespace', namespace], ['function name', name]] as const) {
    if (v.length > 63 || !DNS_LABEL.test(v)) throw new CliError(`${what} "${v}" is not a DNS label (lowercase letters, digits and '-', at most 63)`);
  }
  if (!path.startsWith('/')) throw new CliError(`--path "${path}" must start with /`);
  const q = path.indexOf('?');
  const rawPath = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : `?${escapeOutside(path.slice(q + 1), true)}`;
  const segments = rawPath.split('/').map((seg) => {
    const decoded = safeDecode(seg);
    if (decoded === '.' || decoded === '..') {
      throw new CliError(`--path "${path}": a "${decoded}" segment would be resolved by the API server's proxy; give the path as the function should see it`);
    }
    if (decoded.includes('/')) throw new CliError(`--path "${path}": an encoded '/' (%2F) in a segment is not passed through the API server's proxy unchanged`);
    return escapeOutside(seg, false);
  });
  const base = `/api/v1/namespaces/${ACTIVATOR_NAMESPACE}/services/${ACTIVATOR_SERVICE}:${ACTIVATOR_PORT_NAME}/proxy`;
  return `${base}/${namespace}/${name}${segments.join('/')}${query}`;
}

/**
 * Why a request header cannot go through the API server's proxy, or undefined when it can.
 * Authorization carries the kubeconfig's credentials (and is deleted after authentication
 * anyway); Impersonate-* would change who the API server thinks the user is; Host is the
 * API server's.
 */
export function refusedProxyHeader(name: string): string | undefined {
  const n = name.toLowerCase();
  if (n === 'authorization') return 'the API server uses Authorization for your cluster credentials and removes it before proxying';
  if (n.startsWith('impersonate-')) return 'the API server would act on it as a change of identity';
  if (n === 'host') return 'the Host of a proxied request is the API server\'s; the activator routes by path';
  return undefined;
}

function safeDecode(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/** Percent-encodes every character outside pchar (and '/', '?' in a query), keeping what is already encoded. */
function escapeOutside(s: string, inQuery: boolean): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    PCHAR.lastIndex = i;
    const m = PCHAR.exec(s);
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const ch = s.codePointAt(i) ?? 0;
    const c = String.fromCodePoint(ch);
    out += inQuery && (c === '/' || c === '?') ? c : encodeURIComponent(c);
    i += c.length;
  }
  return out;
}
