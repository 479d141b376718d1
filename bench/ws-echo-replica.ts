// A WebSocket echo replica in its own process, for the protocols benchmark: the `ws`
// library's server on port 0, echoing every message. Prints {"msg":"listening","port":N}
// and serves until SIGTERM.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => {
  const address = wss.address();
  console.log(JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 }));
});
process.once('SIGTERM', () => wss.close(() => process.exit(0)));
