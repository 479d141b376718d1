// What the activator does with a protocol switch, as pure functions: which Upgrade
// requests it tunnels to a replica and which it refuses with an explicit error, and the
// header object the tunnelling request carries.

export interface UpgradeRefusal {
  code: 'unsupported_protocol';
  message: string;
}

/**
 * Whether an Upgrade field offers only h2c: node's server then serves the request as the
 * plain HTTP/1.1 request it also is (listen.ts, shouldUpgradeCallback). RFC 9110 §7.8: "A
 * server MAY ignore a received Upgrade header field if it wishes to continue using the
 * current protocol on that connection." The client reads the HTTP/1.1 answer as its offer
 * declined, which is no silent downgrade: it asked for that answer too. `curl --http2`
 * sends exactly this offer, so it works as it does against nginx. Connection and
 * HTTP2-Settings (named in Connection) are hop-by-hop and do not reach the replica.
 */
export function offersOnlyH2c(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  let any = false;
  for (const token of upgrade.split(',')) {
    const protocol = token.trim().split('/', 1)[0]?.toLowerCase() ?? '';
    if (protocol === '') continue;
    if (protocol !== 'h2c') return false;
    any = true;
  }
  return any;
}

/**
 * Why an Upgrade request (node's 'upgrade' event: `Connection: upgrade` plus an `Upgrade`
 * field) is refused, or undefined when it is tunnelled to the replica, which then decides:
 * its 101 opens the tunnel, any other answer is relayed as it is.
 *
 * - `h2c` offered beside another protocol: RFC 9113 §3.1 deprecated the Upgrade to HTTP/2
 *   ("This usage was never widely deployed and is deprecated by this document"), and
 *   tunnelling the other protocol to a replica that might pick h2c would hand the client
 *   the replica's HTTP/2 on a connection the activator only copies bytes on. (An offer of
 *   h2c alone never gets here: see offersOnlyH2c.) HTTP/2 comes with prior knowledge, as
 *   gRPC clients send it.
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
