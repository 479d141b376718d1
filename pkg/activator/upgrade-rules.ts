// What the activator does with a protocol switch, as pure functions: which Upgrade
// requests it tunnels to a replica and which it refuses with an explicit error, and the
// header object the tunnelling request carries.

export interface UpgradeRefusal {
  code: 'unsupported_protocol';
  message: string;
}

/**
 * Why an Upgrade request (node's 'upgrade' event: `Connection: upgrade` plus an `Upgrade`
 * field) is refused, or undefined when it is tunnelled to the replica, which then decides:
 * its 101 opens the tunnel, any other answer is relayed as it is.
 *
 * - `h2c`: RFC 9113 §3.1 deprecated the Upgrade to HTTP/2 ("This usage was never widely
 *   deployed and is deprecated by this document"). Tunnelling it would hand the client the
 *   replica's HTTP/2 on a connection the activator then only copies bytes on; answering
 *   HTTP/1.1 instead would be the silent downgrade the issue is about. HTTP/2 comes with
 *   prior knowledge (as gRPC clients send it) or not at all.
 * - A body: node hands an upgrade request's body bytes over with the socket, after the
 *   head; the replica would wait for a body the tunnel only sends after its 101.
 */
export function upgradeRefusal(upgrade: string, bodyLength: number): UpgradeRefusal | undefined {
  for (const token of upgrade.split(',')) {
    const protocol = token.trim().split('/', 1)[0]?.toLowerCase() ?? '';
    if (protocol === 'h2c') {
      return {
        code: 'unsupported_protocol',
        message: 'Upgrade: h2c is not supported (RFC 9113 §3.1 deprecated it); send HTTP/2 with prior knowledge (curl --http2-prior-knowledge), or HTTP/1.1 without Upgrade',
      };
    }
  }
  if (bodyLength !== 0) return { code: 'unsupported_protocol', message: 'an Upgrade request with a body is not supported; send the body after the protocol switch' };
  return undefined;
}

export const CONNECT_REFUSAL: UpgradeRefusal = {
  code: 'unsupported_protocol',
  message: 'CONNECT is not supported: the activator is a gateway to functions, not a forward proxy',
};

/**
 * The header object for the request that asks the replica to switch (the proxy library
 * takes an object): the inspected header list, which dropped Connection and Upgrade as
 * hop-by-hop, with the switch asked for again. Repeated fields are joined with ", ", which
 * RFC 9110 §5.3 allows for every request field a client may repeat (Cookie is joined with
 * "; ", §5.4 of RFC 6265).
 */
export function upgradeHeaders(headers: readonly string[], upgrade: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    const value = headers[i + 1] as string;
    const had = out[name];
    out[name] = had === undefined ? value : `${had}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  out.connection = 'Upgrade';
  out.upgrade = upgrade;
  return out;
}
