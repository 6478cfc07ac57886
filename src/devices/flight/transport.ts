/**
 * The byte pipes a MAVLink link runs over, chosen by the endpoint string:
 *   serial:/dev/ttyUSB0:57600   serial:sim:NAME:57600 (resolved by the driver context)
 *   udp:0.0.0.0:14550           listen; reply to the last peer heard (as MAVProxy does)
 *   udpout:HOST:PORT            send to HOST:PORT, receive replies on the same socket
 *   tcp:HOST:PORT               connect (ArduPilot SITL listens on tcp:5760)
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { SerialPort } from 'serialport';
import { FlightInputError } from './errors.js';

export type Endpoint =
  | { kind: 'serial'; path: string; baudRate: number }
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'udpout'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number };

export interface Transport {
  open(): Promise<void>;
  /** Called once when the pipe fails after opening (device gone, serial error, socket closed). */
  onFault?: (reason: string) => void;
  write(buf: Buffer): void;
  close(): Promise<void>;
}

function hostPort(rest: string, endpoint: string): { host: string; port: number } {
  const i = rest.lastIndexOf(':');
  const host = rest.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(rest.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new FlightInputError('AIRLOCK_FLIGHT_ENDPOINT', `bad MAVLink endpoint "${endpoint}": expected HOST:PORT`);
  }
  return { host, port };
}

/** Parse an endpoint string; `resolvePort` maps `sim:NAME` (and any other alias) to a device path. */
export function parseEndpoint(endpoint: string, resolvePort: (port: string) => string = (p) => p): Endpoint {
  const colon = endpoint.indexOf(':');
  const scheme = endpoint.slice(0, colon);
  const rest = endpoint.slice(colon + 1);
  if (colon > 0 && scheme === 'serial') {
    const i = rest.lastIndexOf(':');
    const baudRate = Number(rest.slice(i + 1));
    const port = rest.slice(0, i);
    if (i <= 0 || !Number.isInteger(baudRate) || baudRate <= 0) {
      throw new FlightInputError(
        'AIRLOCK_FLIGHT_ENDPOINT',
        `bad MAVLink endpoint "${endpoint}": expected serial:DEVICE:BAUD (serial:/dev/ttyUSB0:57600)`,
      );
    }
    return { kind: 'serial', path: resolvePort(port), baudRate };
  }
  if (colon > 0 && (scheme === 'udp' || scheme === 'udpout' || scheme === 'tcp')) {
    return { kind: scheme, ...hostPort(rest, endpoint) };
  }
  throw new FlightInputError(
    'AIRLOCK_FLIGHT_ENDPOINT',
    `bad MAVLink endpoint "${endpoint}": use serial:DEVICE:BAUD, udp:HOST:PORT, udpout:HOST:PORT or tcp:HOST:PORT`,
  );
}

export function createTransport(ep: Endpoint, onData: (chunk: Buffer) => void): Transport {
  switch (ep.kind) {
    case 'serial':
      return new SerialTransport(ep.path, ep.baudRate, onData);
    case 'udp':
    case 'udpout':
      return new UdpTransport(ep.kind === 'udp', ep.host, ep.port, onData);
    case 'tcp':
      return new TcpTransport(ep.host, ep.port, onData);
  }
}

class SerialTransport implements Transport {
  private port?: SerialPort;
  constructor(
    private readonly path: string,
    private readonly baudRate: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', this.onData);
    // A vanished device (USB unplugged, the PTY's far side gone) is a transport fault: the
    // record is no longer whole. Never a crash.
    port.on('error', (err: Error) => this.fault(`serial error on ${this.path}: ${err.message}`));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port === port) this.fault(err?.disconnected ? `serial device ${this.path} disconnected` : `serial port ${this.path} closed${err ? `: ${err.message}` : ''}`);
    });
    this.port = port;
  }

  onFault?: (reason: string) => void;
  private faulted = false;
  private fault(reason: string): void {
    if (this.faulted || !this.port) return;
    this.faulted = true;
    this.onFault?.(reason);
  }

  write(buf: Buffer): void {
    if (this.port?.isOpen) this.port.write(buf);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.drain(() => resolve()));
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

class UdpTransport implements Transport {
  private socket?: dgram.Socket;
  onFault?: (reason: string) => void;
  private peer?: { address: string; port: number };
  constructor(
    private readonly listen: boolean,
    private readonly host: string,
    private readonly port: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    if (!listen) this.peer = { address: host, port };
  }

  async open(): Promise<void> {
    const socket = dgram.createSocket(net.isIPv6(this.host) ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => {
      if (this.listen) this.peer = { address: rinfo.address, port: rinfo.port };
      this.onData(msg);
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.onFault?.(`UDP socket error: ${err.message}`);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.onFault?.('UDP socket closed');
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      const done = () => {
        socket.off('error', reject);
        resolve();
      };
      if (this.listen) socket.bind(this.port, this.host, done);
      else socket.bind(0, done);
    });
    this.socket = socket;
  }

  write(buf: Buffer): void {
    if (this.socket && this.peer) this.socket.send(buf, this.peer.port, this.peer.address);
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

class TcpTransport implements Transport {
  private socket?: net.Socket;
  onFault?: (reason: string) => void;
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  async open(): Promise<void> {
    const socket = net.connect({ host: this.host, port: this.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', (err) => {
      if (this.socket === socket) this.onFault?.(`TCP error: ${err.message}`);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.onFault?.('TCP connection closed by the vehicle side');
    });
    this.socket = socket;
  }

  write(buf: Buffer): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(buf);
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => socket.end(() => resolve()));
    socket.destroy();
  }
}
