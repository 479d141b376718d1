// What a replica of a Function runs locally, derived from the manifest alone: command,
// folder, environment and readiness probe. Pure, so a spec change can be compared.
import path from 'node:path';
import type { KfnFunction } from '../../apis/function/types.js';
import type { ActivationFailure } from '../types.js';

/** Where a Function's replicas run: the absolute folder of the manifest it came from. */
export const LOCAL_DIR_ANNOTATION = 'kfn.dev/local-dir';

export type ReadinessCheck = { kind: 'tcp' } | { kind: 'http'; path: string };

export interface ReadinessSpec {
  check: ReadinessCheck;
  initialDelayMs: number;
  /** Between checks once the replica is ready. */
  periodMs: number;
  timeoutMs: number;
  /** Failed checks in a row that take a ready replica out of the endpoints. */
  failureThreshold: number;
  /** Passed checks in a row that (re)admit a replica. */
  successThreshold: number;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** spec.env only; the platform adds PATH, HOME and PORT per replica. */
  env: Record<string, string>;
  readiness: ReadinessSpec;
  /** Compared to decide whether a new spec needs new replicas. */
  fingerprint: string;
}

export type LaunchResult = { ok: true; launch: LaunchSpec } | { ok: false; failure: ActivationFailure };

export function launchSpec(fn: KfnFunction, cwd: string = process.cwd()): LaunchResult {
  const { spec } = fn;
  const [command, ...commandArgs] = spec.command ?? [];
  if (!command) {
    return {
      ok: false,
      failure: {
        reason: 'NoCommand',
        message:
          `spec.command is empty: local mode runs each replica as a process from the manifest's folder ` +
          `and has no container runtime to start the image's entrypoint (${spec.image || 'no image'}); ` +
          `set spec.command (and spec.args), e.g. command: [kfn-node-runtime], args: [handler.js]`,
      },
    };
  }
  const dir = path.resolve(cwd, fn.metadata.annotations?.[LOCAL_DIR_ANNOTATION] ?? '.');
  const env: Record<string, string> = {};
  // A valueFrom variable is left unset, never set to a wrong value (notAppliedLocally says so).
  for (const e of spec.env ?? []) if (e.value !== undefined || !e.valueFrom) env[e.name] = e.value ?? '';
  const readiness = readinessSpec(fn);
  const launch = {
    command,
    args: [...commandArgs, ...(spec.args ?? [])],
    cwd: path.resolve(dir, spec.workingDir ?? '.'),
    env,
    readiness,
  };
  // The image is part of it although nothing runs it locally: on a cluster a new image
  // means new code, and both modes should roll on the same changes.
  return { ok: true, launch: { ...launch, fingerprint: JSON.stringify([spec.image, launch]) } };
}

/**
 * Spec fields that change what a replica sees on a cluster but that a local process
 * cannot have: there is no kubelet to read Secrets, ConfigMaps or pod fields, and no
 * volumes to mount. Each entry names the field and what the process gets instead, for
 * the one warning the workload logs. Fields that only place or identify pods
 * (serviceAccountName, nodeSelector, securityContext...) have no local meaning and are
 * not listed; the README says so.
 */
export function notAppliedLocally(fn: KfnFunction): string[] {
  const { spec } = fn;
  const out: string[] = [];
  (spec.env ?? []).forEach((e, i) => {
    if (e.valueFrom && e.value === undefined) out.push(`spec.env[${i}].valueFrom: ${e.name} is left unset`);
  });
  if (spec.envFrom?.length) out.push(`spec.envFrom: the ${spec.envFrom.length} Secret/ConfigMap source(s) add no variables`);
  if (spec.volumeMounts?.length) out.push(`spec.volumeMounts: nothing is mounted at ${spec.volumeMounts.map((m) => m.mountPath).join(', ')}`);
  else if (spec.volumes?.length) out.push('spec.volumes: no volume exists locally');
  return out;
}

function readinessSpec(fn: KfnFunction): ReadinessSpec {
  const p = fn.spec.readinessProbe ?? {};
  // The probe's port is ignored: locally a replica listens on the free port it is given
  // as $PORT, whatever spec.port says.
  const check: ReadinessCheck = p.httpGet ? { kind: 'http', path: p.httpGet.path || '/' } : { kind: 'tcp' };
  return {
    check,
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, p.timeoutSeconds ?? 1) * 1000,
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
    successThreshold: Math.max(1, p.successThreshold ?? 1),
  };
}
