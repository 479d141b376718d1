// One GET with a deadline, for sanity checks and single timed requests.
import http from 'node:http';
import type { Client } from 'undici';

export interface Answer {
  status: number;
  body: string;
}

export function getOnce(port: number, hostHeader: string, path = '/', agent?: http.Agent, timeoutMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: hostHeader }, agent: agent ?? false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET http://${hostHeader}${path} (port ${port}) timed out after ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/**
 * One GET over `client`'s keep-alive connection, the body read to its end. For timed
 * requests: undici's client costs less per request than node's, and a connection opened
 * beforehand keeps connecting out of the time.
 */
export async function getVia(client: Client, hostHeader: string, path = '/', timeoutMs = 30_000): Promise<Answer> {
  const { statusCode, body } = await client.request({ method: 'GET', path, headers: { host: hostHeader }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return { status: statusCode, body: await body.text() };
}
