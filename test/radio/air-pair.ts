/** A namespace pair joined by a veth "air" link, for the virtual radio tests (names carry a unique id). */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface AirPair {
  drone: string;
  controller: string;
  droneIp: string;
  controllerIp: string;
  droneMac: string;
  controllerMac: string;
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

export function makeAirPair(): AirPair {
  const id = randomBytes(3).toString('hex');
  const drone = `trd-${id}-d`;
  const controller = `trd-${id}-c`;
  ip('netns', 'add', drone);
  ip('netns', 'add', controller);
  try {
    ip('link', 'add', `trd${id}a`, 'type', 'veth', 'peer', 'name', `trd${id}b`);
    ip('link', 'set', `trd${id}a`, 'netns', drone);
    ip('link', 'set', `trd${id}b`, 'netns', controller);
    const setup = (ns: string, from: string, addr: string) => {
      ip('-n', ns, 'link', 'set', from, 'name', 'air0');
      // No IPv6 on the air: keeps the kernel's own DAD/RS chatter off the link, so silence is silence.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.air0.disable_ipv6=1']);
      ip('-n', ns, 'addr', 'add', addr, 'dev', 'air0');
      ip('-n', ns, 'link', 'set', 'air0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    };
    setup(drone, `trd${id}a`, '10.77.0.1/30');
    setup(controller, `trd${id}b`, '10.77.0.2/30');
    const mac = (ns: string) => /link\/ether ([0-9a-f:]{17})/.exec(ip('-n', ns, 'link', 'show', 'air0'))![1]!;
    return {
      drone,
      controller,
      droneIp: '10.77.0.1',
      controllerIp: '10.77.0.2',
      droneMac: mac(drone),
      controllerMac: mac(controller),
      remove: () => {
        spawnSync('ip', ['netns', 'del', drone]);
        spawnSync('ip', ['netns', 'del', controller]);
      },
    };
  } catch (e) {
    spawnSync('ip', ['netns', 'del', drone]);
    spawnSync('ip', ['netns', 'del', controller]);
    throw e;
  }
}

/** Send `count` UDP datagrams of `size` bytes from inside `ns` to host:port, `gapMs` apart (bounded). */
export function sendUdp(ns: string, host: string, port: number, count: number, size: number, gapMs: number, payloadHex?: string): Promise<void> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const buf = ${payloadHex ? `Buffer.from('${payloadHex}', 'hex')` : `Buffer.alloc(${size}, 0x55)`};
    let n = 0;
    const t = setInterval(() => {
      s.send(buf, ${port}, '${host}');
      if (++n >= ${count}) { clearInterval(t); setTimeout(() => s.close(), 50); }
    }, ${gapMs});`;
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: 'inherit' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}`))));
  });
}
