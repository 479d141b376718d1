// notify-order: the last step. Gets a charge (`orders.charged`) and tells the customer,
// which here means a log line; with ORDERS_OUT set (a file path, in the Function's env),
// it also appends one JSON line per notification to that file, with the CloudEvent
// attributes it arrived with, so a test or a person can see what reached the end.
import { appendFile } from 'node:fs/promises';

export default async function notify(req) {
  const charge = req.json();
  const note = {
    orderId: charge.orderId,
    customer: charge.customer,
    amount: charge.amount,
    chargeId: charge.chargeId,
    // The event as it arrived: binary-mode CloudEvent attributes are ce- headers.
    event: {
      id: req.headers['ce-id'],
      type: req.headers['ce-type'],
      source: req.headers['ce-source'],
      subject: req.headers['ce-subject'],
      parent: req.headers['ce-kfnparentid'],
    },
  };
  console.log(JSON.stringify({ level: 'info', time: Date.now(), msg: 'customer notified', ...note }));
  if (process.env.ORDERS_OUT) await appendFile(process.env.ORDERS_OUT, JSON.stringify(note) + '\n');
  return { status: 204 };
}
