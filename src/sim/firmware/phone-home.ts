/** The leaks: what a firmware that talks to its vendor sends. Destinations are documentation addresses. */
import type { FirmwareContext } from './context.js';

export const VENDOR_NAME = 'flightrecord.vendor.example';
export const VENDOR_API = 'api.vendor.example';
export const VENDOR_V4 = '203.0.113.10';
export const VENDOR_HTTP_V4 = '203.0.113.11';
export const VENDOR_UDP_V4 = '203.0.113.12';
export const VENDOR_V6 = '2001:db8::10';
export const LEAK_UDP_PORT = 9000;

function flightRecord(ctx: FirmwareContext): string {
  return JSON.stringify({ device: ctx.device, serial: 'SN-AIRLOCK-0001', lat: -35.363262, lon: 149.165237, t: Date.now() });
}

export const leaks = {
  dns: (ctx: FirmwareContext) => void ctx.lookup(VENDOR_NAME),
  https: (ctx: FirmwareContext) => ctx.https(VENDOR_V4, VENDOR_NAME, `POST /upload HTTP/1.1\r\nHost: ${VENDOR_NAME}\r\nContent-Length: 0\r\n\r\n`),
  http: (ctx: FirmwareContext) => ctx.httpPost(VENDOR_HTTP_V4, VENDOR_API, '/v1/flightlog', flightRecord(ctx)),
  udp: (ctx: FirmwareContext) => ctx.udp(VENDOR_UDP_V4, LEAK_UDP_PORT, Buffer.from(flightRecord(ctx))),
  ipv6: (ctx: FirmwareContext) => ctx.udp(VENDOR_V6, LEAK_UDP_PORT, Buffer.from(flightRecord(ctx))),
  /** DNS for the vendor's name, then HTTPS to its (hard-coded, outside) address. */
  phoneHome: (ctx: FirmwareContext) => {
    void ctx.lookup(VENDOR_NAME).finally(() => ctx.https(VENDOR_V4, VENDOR_NAME, flightRecord(ctx)));
  },
};

export const LEAK_INTERVAL_MS = 3000;

/**
 * A flight record uploaded as a sync at power-off: DNS for the vendor's name, then an HTTPS POST
 * to its outside address; resolves once the POST was sent (or gave up), so the caller may stop.
 */
export async function uploadFlightRecord(ctx: FirmwareContext): Promise<void> {
  await ctx.lookup(VENDOR_NAME);
  const body = flightRecord(ctx);
  await ctx.httpsAndWait(VENDOR_V4, VENDOR_NAME, `POST /v1/flightrecord HTTP/1.1\r\nHost: ${VENDOR_NAME}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
