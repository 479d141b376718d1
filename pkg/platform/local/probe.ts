// One readiness check against a replica: a TCP connect or an HTTP GET (2xx/3xx passes).
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ReadinessCheck } from './launch.js';

export function probeOnce(check: ReadinessCheck, host: string, port: number, timeoutMs: number): Promise<boolean> {
  return check.kind === 'tcp' ? tcpProbe(host, port, timeoutMs) : httpProbe(host, port, check.path, timeoutMs);
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function httpProbe(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'kfn-probe' } });
    req.once('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.once('timeout', () => req.destroy(new Error('probe timed out')));
    req.once('error', () => resolve(false));
    req.end();
  });
}
