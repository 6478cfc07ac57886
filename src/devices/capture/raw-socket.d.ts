// Types for the parts of the `raw-socket` package (raw IP sockets for canaries) that Airlock uses.
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';
  export const AddressFamily: { IPv4: number; IPv6: number };
  export const Protocol: { None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number };
  export const SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
  export const SocketOption: { SO_BINDTODEVICE: number; IP_HDRINCL: number; [name: string]: number };
  export class Socket extends EventEmitter {
    send(buffer: Buffer, offset: number, length: number, address: string, after: (error: Error | null, bytes: number) => void): this;
    setOption(level: number, option: number, value: Buffer | number, length?: number): void;
    pauseRecv(): this;
    close(): this;
  }
  export function createSocket(options: { protocol?: number; addressFamily?: number; bufferSize?: number }): Socket;
}
