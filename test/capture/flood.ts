/** Test helper run inside a lab namespace: sends a bounded burst of UDP datagrams. argv: dst port count size */
import dgram from 'node:dgram';

const [dst, port, count, size] = process.argv.slice(2) as [string, string, string, string];
const s = dgram.createSocket('udp4');
const payload = Buffer.alloc(Number(size), 0x41);
let sent = 0;
const deadline = Date.now() + 10_000;
function burst(): void {
  for (let i = 0; i < 200 && sent < Number(count); i++, sent++) s.send(payload, Number(port), dst);
  if (sent < Number(count) && Date.now() < deadline) setImmediate(burst);
  else setTimeout(() => { process.stdout.write(`${sent}\n`); s.close(); }, 200);
}
burst();
