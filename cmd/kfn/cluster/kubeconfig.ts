// Which cluster the CLI talks to, found as kubectl finds it: --kubeconfig, else the files
// listed in KUBECONFIG, else ~/.kube/config; --context, else the current context; -n, else
// the context's namespace, else "default".
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CliError } from '../client.js';

export interface KubeconfigEnv {
  /** --kubeconfig */
  flag: string | undefined;
  /** $KUBECONFIG */
  env: string | undefined;
  home: string;
  exists: (file: string) => boolean;
}

export function kubeconfigEnv(flag: string | undefined): KubeconfigEnv {
  return { flag, env: process.env.KUBECONFIG, home: os.homedir(), exists: existsSync };
}

/**
 * The kubeconfig files to read, in order; empty when there is none. --kubeconfig must
 * exist (it was asked for); KUBECONFIG entries that do not exist are skipped, as kubectl does.
 */
export function kubeconfigFiles(e: KubeconfigEnv): string[] {
  if (e.flag) return [e.flag];
  if (e.env) return e.env.split(path.delimiter).filter((f) => f !== '' && e.exists(f));
  const file = path.join(e.home, '.kube', 'config');
  return e.exists(file) ? [file] : [];
}

export interface ClusterTarget {
  kubeConfig: KubeConfig;
  context: string;
  /** The API server's URL, as the kubeconfig gives it (it may carry a path prefix). */
  server: string;
  /** The context's namespace, else "default". */
  namespace: string;
}

/** Loads `files` and selects `context` (default: the current context); throws CliError naming what is missing. */
export function loadCluster(files: readonly string[], context: string | undefined): ClusterTarget {
  const kc = new KubeConfig();
  files.forEach((file, i) => {
    try {
      if (i === 0) {
        kc.loadFromFile(file);
        return;
      }
      const next = new KubeConfig();
      next.loadFromFile(file);
      mergeFirstWins(kc, next);
    } catch (err) {
      throw new CliError(`cannot read the kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
  });
  const where = files.join(path.delimiter);
  const name = context ?? kc.currentContext;
  if (!name) throw new CliError(`the kubeconfig ${where} has no current context; pass --context (contexts: ${contextNames(kc)})`);
  const ctx = kc.getContextObject(name);
  if (!ctx) throw new CliError(`context "${name}" is not in the kubeconfig ${where} (contexts: ${contextNames(kc)})`);
  kc.setCurrentContext(name);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new CliError(`context "${name}" names cluster "${ctx.cluster}", which the kubeconfig ${where} does not define`);
  return { kubeConfig: kc, context: name, server: cluster.server, namespace: ctx.namespace || 'default' };
}

/**
 * kubectl's merge of KUBECONFIG files: the first file to set current-context, and the
 * first to define a name, win. (client-node's mergeConfig throws on a repeated name,
 * which is common: two files that both hold a "kind-kind".)
 */
function mergeFirstWins(into: KubeConfig, next: KubeConfig): void {
  if (!into.currentContext && next.currentContext) into.currentContext = next.currentContext;
  const has = (list: ReadonlyArray<{ name: string }>, name: string): boolean => list.some((x) => x.name === name);
  for (const c of next.getClusters()) if (!has(into.getClusters(), c.name)) into.addCluster(c);
  for (const u of next.getUsers()) if (!has(into.getUsers(), u.name)) into.addUser(u);
  for (const c of next.getContexts()) if (!has(into.getContexts(), c.name)) into.addContext(c);
}

function contextNames(kc: KubeConfig): string {
  const names = kc.getContexts().map((c) => c.name);
  return names.length > 0 ? names.join(', ') : 'none';
}
