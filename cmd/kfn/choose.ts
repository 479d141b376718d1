// Which backend a command talks to. An explicit choice wins (--dev or --admin for kfn dev;
// --cluster, --context or --kubeconfig for a cluster); otherwise kfn dev when one is
// running for this KFN_HOME, else the cluster of the kubeconfig, as kn would use it.
import { isKfnDev } from '../../pkg/dev/lock.js';
import type { Backend } from './backend.js';
import { adminToken, CliError, readDevState } from './client.js';
import { ClusterBackend } from './cluster/backend.js';
import { kubeconfigEnv, kubeconfigFiles, loadCluster } from './cluster/kubeconfig.js';
import { DevBackend } from './dev-backend.js';

/** The flags every resource command takes; parseArgs options. */
export const backendOptions = {
  dev: { type: 'boolean' },
  cluster: { type: 'boolean' },
  admin: { type: 'string' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
} as const;

export const backendUsage = `Where: kfn dev when it is running, else the cluster of the kubeconfig (as kubectl finds it).
  --dev / --admin URL          kfn dev (its admin API; also KFN_ADMIN)
  --cluster                    the kubeconfig's current context
  --context NAME               that kubeconfig context (implies --cluster)
  --kubeconfig FILE            that kubeconfig (implies --cluster; default KUBECONFIG, ~/.kube/config)`;

export interface BackendFlags {
  dev?: boolean | undefined;
  cluster?: boolean | undefined;
  admin?: string | undefined;
  context?: string | undefined;
  kubeconfig?: string | undefined;
}

export interface ChoiceInput {
  flags: BackendFlags;
  /** $KFN_ADMIN */
  adminEnv: string | undefined;
  /** The admin URL of the kfn dev running for this KFN_HOME, if one is. */
  runningDev: string | undefined;
  /** Kubeconfig files found (kubeconfigFiles). */
  kubeconfigs: readonly string[];
}

export type Choice = { backend: 'dev'; admin: string } | { backend: 'cluster'; files: readonly string[]; context: string | undefined } | { error: string };

export const DEFAULT_ADMIN = 'http://127.0.0.1:8081';

const NO_KUBECONFIG = 'no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)';

export function chooseBackend(input: ChoiceInput): Choice {
  const { flags } = input;
  const wantCluster = flags.cluster === true || flags.context !== undefined || flags.kubeconfig !== undefined;
  const wantDev = flags.dev === true || flags.admin !== undefined;
  if (wantCluster && wantDev) return { error: 'choose one: --dev/--admin (kfn dev) or --cluster/--context/--kubeconfig (a cluster)' };
  if (wantDev) return { backend: 'dev', admin: flags.admin ?? input.adminEnv ?? input.runningDev ?? DEFAULT_ADMIN };
  if (wantCluster) {
    if (input.kubeconfigs.length === 0) return { error: NO_KUBECONFIG };
    return { backend: 'cluster', files: input.kubeconfigs, context: flags.context };
  }
  if (input.adminEnv) return { backend: 'dev', admin: input.adminEnv };
  if (input.runningDev) return { backend: 'dev', admin: input.runningDev };
  if (input.kubeconfigs.length > 0) return { backend: 'cluster', files: input.kubeconfigs, context: undefined };
  return { error: `kfn dev is not running (start it with \`kfn dev\`) and ${NO_KUBECONFIG}` };
}

/** The backend for `flags`, looking at this machine's kfn dev state and kubeconfig. */
export async function connect(flags: BackendFlags): Promise<Backend> {
  const choice = chooseBackend({
    flags,
    adminEnv: process.env.KFN_ADMIN || undefined,
    runningDev: await runningDevAdmin(),
    kubeconfigs: kubeconfigFiles(kubeconfigEnv(flags.kubeconfig)),
  });
  if ('error' in choice) throw new CliError(choice.error);
  if (choice.backend === 'dev') return new DevBackend(choice.admin, await adminToken(choice.admin));
  return new ClusterBackend(loadCluster(choice.files, choice.context));
}

/** The admin URL from $KFN_HOME/dev.json when the kfn dev that wrote it still runs. */
async function runningDevAdmin(): Promise<string | undefined> {
  const state = await readDevState();
  if (!state || typeof state.admin !== 'string' || !Number.isInteger(state.pid)) return undefined;
  // A kfn dev killed with SIGKILL leaves dev.json behind; its pid is gone or reused.
  return (await isKfnDev(state.pid)) ? state.admin : undefined;
}
