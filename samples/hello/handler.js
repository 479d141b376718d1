// hello: echoes the request back, with which replica answered and how many requests it
// was serving at once. `?sleep=<ms>` holds the response, for load and drain tests;
// GET /peak returns the most requests this replica ever served at once.
let inFlight = 0;
let peakInFlight = 0;

export default async function hello(req) {
  if (req.method === 'GET' && req.path === '/peak') {
    return { headers: counters(), body: { peakInFlight } };
  }
  inFlight++;
  peakInFlight = Math.max(peakInFlight, inFlight);
  try {
    const sleep = Number(req.query.get('sleep') ?? 0);
    if (sleep > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(sleep, 600_000)));
    return {
      headers: counters(),
      body: {
        method: req.method,
        path: req.path,
        query: Object.fromEntries(req.query),
        headers: req.headers,
        body: req.text(),
        replica: process.pid,
        inFlight,
        peakInFlight,
      },
    };
  } finally {
    inFlight--;
  }
}

function counters() {
  return {
    'x-kfn-replica': String(process.pid),
    'x-kfn-inflight': String(inFlight),
    'x-kfn-peak-inflight': String(peakInFlight),
  };
}
