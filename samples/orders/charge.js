// charge-order: the second step. Gets a validated order (`orders.validated`), charges
// it, and answers with the charge, which the trigger publishes on `orders.charged`.
//
// The payment provider is pretend, and so are its hiccups: an order with
// `"failFirst": n` fails its first n charge attempts with 503, as a provider that is
// briefly unavailable would. 503 is worth retrying, so the dispatcher tries again with
// the trigger's backoff; an order whose failFirst is above the trigger's retries ends in
// the dead letters (`kfn dlq list charge-orders`). Attempts are counted per order in this
// replica's memory: deterministic for one replica, which is what the sample runs.
//
// A real outage is PAYMENTS_DOWN=true in the Function's env: every charge fails with 503
// until the env goes, the failed orders end in the dead letters, and `kfn dlq redrive
// charge-orders` charges them once the provider is back.
const attempts = new Map();

export default async function charge(req) {
  const order = req.json();
  if (process.env.PAYMENTS_DOWN === 'true') {
    log('payment provider down', { order: order.id, event: req.headers['ce-id'] });
    return { status: 503, body: { error: 'PaymentUnavailable', message: 'the payment provider is down (PAYMENTS_DOWN=true)' } };
  }
  const attempt = (attempts.get(order.id) ?? 0) + 1;
  attempts.set(order.id, attempt);
  if (attempt <= (Number(order.failFirst) || 0)) {
    log('payment provider unavailable', { order: order.id, attempt, event: req.headers['ce-id'] });
    return { status: 503, body: { error: 'PaymentUnavailable', message: `attempt ${attempt} of order ${order.id} failed on purpose (failFirst ${order.failFirst})` } };
  }
  attempts.delete(order.id);
  const charged = { orderId: order.id, customer: order.customer, amount: order.total, chargeId: `ch-${order.id}-${attempt}`, attempts: attempt, chargedAt: new Date().toISOString() };
  log('order charged', charged);
  return { headers: { 'ce-type': 'dev.kfn.orders.charged', 'ce-subject': String(order.id) }, body: charged };
}

function log(msg, fields) {
  console.log(JSON.stringify({ level: 'info', time: Date.now(), msg, ...fields }));
}
