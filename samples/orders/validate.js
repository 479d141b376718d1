// validate-order: the first step of the order flow. Gets an order (the data of an
// `orders.created` event), checks it, and answers with the validated order, which the
// trigger publishes on `orders.validated`. A bad order gets 422: retrying cannot fix it,
// so the dispatcher sends it to the dead letters at once (`kfn dlq list validate-orders`).
//
// An order: { "id": "o-1", "customer": "ada", "items": [{ "sku": "tea", "qty": 2, "price": 4.5 }],
//             "failFirst": 0 }   (failFirst: see charge.js)
export default async function validate(req) {
  let order;
  try {
    order = req.json();
  } catch (err) {
    return reject(`the order is not JSON: ${err.message}`);
  }
  const problem = check(order);
  if (problem) return reject(problem);
  const total = Math.round(order.items.reduce((sum, i) => sum + i.qty * i.price, 0) * 100) / 100;
  log('order validated', { order: order.id, total });
  return {
    // The reply event's type; everything else (id, source, kfnparentid) kfn fills in.
    headers: { 'ce-type': 'dev.kfn.orders.validated', 'ce-subject': String(order.id) },
    body: { ...order, total, validatedAt: new Date().toISOString() },
  };
}

/** Why the order cannot be taken, or undefined when it can. */
function check(order) {
  if (typeof order !== 'object' || order === null || Array.isArray(order)) return 'the order must be a JSON object';
  if (typeof order.id !== 'string' || order.id === '') return 'id: must be a non-empty string';
  if (!Array.isArray(order.items) || order.items.length === 0) return 'items: an order needs at least one item';
  for (const [n, item] of order.items.entries()) {
    if (typeof item?.sku !== 'string' || item.sku === '') return `items[${n}].sku: must be a non-empty string`;
    if (!Number.isInteger(item.qty) || item.qty <= 0) return `items[${n}].qty: must be a whole number above 0`;
    if (typeof item.price !== 'number' || !(item.price >= 0)) return `items[${n}].price: must be a number, 0 or more`;
  }
  return undefined;
}

function reject(reason) {
  log('order rejected', { reason });
  return { status: 422, body: { error: 'InvalidOrder', message: reason } };
}

function log(msg, fields) {
  console.log(JSON.stringify({ level: 'info', time: Date.now(), msg, ...fields }));
}
