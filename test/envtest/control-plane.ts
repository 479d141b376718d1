// A real Kubernetes control plane for the tests in this folder: etcd, kube-apiserver and,
// when its binary is there too, kube-controller-manager (which runs the garbage collector
// and the Deployment controller), from the folder named by KUBEBUILDER_ASSETS, the
// envtest convention of the Kubernetes ecosystem. Nothing here is a double: the API
// server validates, defaults, applies CEL and Pod Security, and enforces RBAC for every
// token but the admin's.
//
// Without those binaries the suites skip with one line (see `assetsOrSkip`), so a fresh
// machine and CI keep passing.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../util/net.js';
import { waitFor } from '../util/wait.js';

export interface Assets {
  dir: string;
  etcd: string;
  apiserver: string;
  /** Present only when the folder has it: garbage collection and Deployments need it. */
  controllerManager?: string;
  /** Present only when the folder has it: the reference for `kubectl apply -k`. */
  kubectl?: string;
}

/** The binaries, or why the suite is skipped, in one line. */
export function assetsOrSkip(env: NodeJS.ProcessEnv = process.env): Assets | string {
  const dir = env.KUBEBUILDER_ASSETS;
  if (!dir) return 'no real kube-apiserver: set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd (see test/envtest/README.md)';
  const at = (name: string): string | undefined => (existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  const etcd = at('etcd');
  const apiserver = at('kube-apiserver');
  if (!etcd || !apiserver) return `no real kube-apiserver: KUBEBUILDER_ASSETS=${dir} lacks ${[etcd ? '' : 'etcd', apiserver ? '' : 'kube-apiserver'].filter(Boolean).join(' and ')}`;
  const controllerManager = at('kube-controller-manager');
  const kubectl = at('kubectl');
  return { dir, etcd, apiserver, ...(controllerManager ? { controllerManager } : {}), ...(kubectl ? { kubectl } : {}) };
}

export interface ControlPlane {
  assets: Assets;
  /** https://127.0.0.1:<port> */
  url: string;
  /** Bearer token of a member of system:masters: everything is allowed. */
  adminToken: string;
  /** A kubeconfig file for `token` (the admin's by default), with `namespace` as its default. */
  kubeconfig(opts?: { token?: string; name?: string; namespace?: string }): string;
  /** Raw HTTP to the API server, as any client would send it. */
  http(method: string, apiPath: string, opts?: { token?: string; body?: unknown; contentType?: string }): Promise<HttpAnswer>;
  /** A token of ServiceAccount `namespace/name`, from the TokenRequest API. */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  hasControllerManager: boolean;
  /** Recent stderr of each process, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  /** The API server's `Warning` headers (deprecations, unknown fields…). */
  warnings: string[];
  json: unknown;
  text: string;
}

export async function startControlPlane(assets: Assets): Promise<ControlPlane> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kfn-envtest-'));
  const procs: { name: string; child: ChildProcess; tail: () => string }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...procs].reverse()) await terminate(p.child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, securePort, kcmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    procs.push(
      launch('etcd', assets.etcd, [
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      ]),
    );

    // The ServiceAccount token signer: TokenRequest needs it, and so do the components.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = path.join(dir, 'sa.key');
    const saPub = path.join(dir, 'sa.pub');
    writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
    const adminToken = randomBytes(24).toString('hex');
    const tokens = path.join(dir, 'tokens.csv');
    writeFileSync(tokens, `${adminToken},kfn-envtest-admin,kfn-envtest-admin,"system:masters"\n`);

    procs.push(
      launch('kube-apiserver', assets.apiserver, [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        `--token-auth-file=${tokens}`,
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
      ]),
    );
    const url = `https://127.0.0.1:${securePort}`;
    // The API server makes its own self-signed serving certificate in --cert-dir; the
    // tests speak TLS to it without checking that certificate (loopback only).
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const http = async (method: string, apiPath: string, opts: { token?: string; body?: unknown; contentType?: string } = {}): Promise<HttpAnswer> => {
      const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? adminToken}`, accept: 'application/json' };
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] = opts.contentType ?? 'application/json';
      }
      const res = await request(`${url}${apiPath}`, { method: method as 'GET', headers, body, dispatcher });
      const text = await res.body.text();
      const warning = res.headers.warning;
      const warnings = warning === undefined ? [] : Array.isArray(warning) ? warning : [warning];
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, warnings, json, text };
    };
    const tail = (): string => procs.map((p) => `--- ${p.name}\n${p.tail()}`).join('\n');
    await waitFor('kube-apiserver /readyz', async () => {
      for (const p of procs) if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.tail()}`);
      return (await http('GET', '/readyz')).status === 200;
    }, { timeoutMs: 90_000, intervalMs: 250 }).catch((err: unknown) => {
      throw new Error(`the control plane did not come up:\n${tail()}`, { cause: err });
    });

    const kubeconfig = (opts: { token?: string; name?: string; namespace?: string } = {}): string => {
      const file = path.join(dir, `kubeconfig-${opts.name ?? 'admin'}.yaml`);
      writeFileSync(file, kubeconfigText(url, opts.token ?? adminToken, opts.namespace ?? 'default', opts.name ?? 'admin'));
      return file;
    };

    if (assets.controllerManager) {
      procs.push(
        launch('kube-controller-manager', assets.controllerManager, [
          `--kubeconfig=${kubeconfig({ name: 'controller-manager' })}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--service-account-private-key-file=${saKey}`,
          '--use-service-account-credentials=false',
          '--controllers=*',
        ]),
      );
    }

    return {
      assets,
      url,
      adminToken,
      kubeconfig,
      http,
      async serviceAccountToken(namespace, name) {
        const res = await http('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
        });
        const token = (res.json as { status?: { token?: string } } | undefined)?.status?.token;
        if (res.status !== 201 || !token) throw new Error(`TokenRequest for ${namespace}/${name}: ${res.status} ${res.text}`);
        return token;
      },
      hasControllerManager: assets.controllerManager !== undefined,
      logs: tail,
      async stop() {
        await dispatcher.close();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function kubeconfigText(server: string, token: string, namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: 'envtest', user: name, namespace } }],
    'current-context': name,
  });
}

function launch(name: string, bin: string, args: string[]): { name: string; child: ChildProcess; tail: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));
  return { name, child, tail: () => out };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
