import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { runTrial, type TrialResult } from './trial.js';
import { waitFor } from '../lab/lab-helpers.js';

const trials: TrialResult[] = [];
afterAll(async () => {
  for (const t of trials) {
    await t.lab.down();
    fs.rmSync(t.runDir, { recursive: true, force: true });
  }
});

const A = { drone: '10.231.0.10', controller: '10.231.0.11', phone: '10.231.0.12' } as const;
const A6 = { drone: 'fd00:a1::10', controller: 'fd00:a1::11', phone: 'fd00:a1::12' } as const;
const AIR = { drone: '10.231.0.253', controller: '10.231.0.254' } as const;
type Dev = keyof typeof A;

/** Traffic a device starts itself: UDP datagrams or TCP SYNs from its address (not kernel replies on old sockets). */
const started = (d: Dev) => `src host ${A[d]} and (udp or (tcp[tcpflags] & tcp-syn != 0))`;
/** Egress: from the device to outside the lab (and not link-local multicast). */
const egress = (d: Dev) => `src host ${A[d]} and not dst net 10.231.0.0/24 and not dst net 224.0.0.0/4`;
/**
 * After SIGTERM: 1 s for a firmware to wind down, from when it says it began its soft power-off
 * (its own console clock; on a loaded host the signal is handled well after the button's release).
 */
const afterSoftOff = (t: TrialResult, d?: Dev) => [Math.max(t.T1, (d && t.consoleAt(d, ': soft power-off')) || 0) + 1000, t.T2] as const;
const afterCut = (t: TrialResult) => [t.T2 + 300, t.T3] as const;

function expectLabTraffic(t: TrialResult, d: Dev): void {
  // mDNS announcements and (on the air) the radio link, while powered.
  expect(t.packets(d, `src host ${A[d]} and udp dst port 5353`, t.T0, t.T1).length, `${d} mDNS`).toBeGreaterThan(0);
  if (d === 'drone') expect(t.packets('air0', `src host ${AIR.drone} and udp dst port 5600`, t.T0, t.T1).length).toBeGreaterThan(5);
  if (d === 'controller') expect(t.packets('air0', `src host ${AIR.controller} and udp dst port 5601`, t.T0, t.T1).length).toBeGreaterThan(5);
  if (d === 'phone') expect(t.packets('phone', `src host ${A.phone} and dst host ${A.controller} and udp dst port 14551`, t.T0, t.marks.appClosed ?? t.T1).length).toBeGreaterThan(0);
}

function expectSilentAfterSoftOff(t: TrialResult, d: Dev): void {
  expect(t.packets(d, started(d), ...afterSoftOff(t, d)), `${d} after soft-off`).toEqual([]);
  expect(t.packets(d, `src host ${A6[d]} and udp`, ...afterSoftOff(t, d))).toEqual([]);
  // UDP only: a peer still transmitting into a powered host gets ICMP unreachable from its kernel.
  if (d !== 'phone') expect(t.packets('air0', `src host ${AIR[d]} and udp`, ...afterSoftOff(t, d)), `${d} air after soft-off`).toEqual([]);
  expect(t.console(d)).toMatch(/soft power-off/);
}

function expectPowerCut(t: TrialResult, d: Dev): void {
  expect(t.packets(d, started(d), ...afterCut(t))).toEqual([]);
  if (d !== 'phone') expect(t.packets('air0', `src host ${AIR[d]} and udp`, ...afterCut(t))).toEqual([]);
  expect(t.groupAfterCut[d]).toBe(0);
  expect(t.amps.cut[d]).toBe(0);
}

function expectCurrents(t: TrialResult, d: Dev, softOff: 'off' | 'standby'): void {
  expect(t.amps.on[d]).toBeGreaterThan(0.9);
  if (softOff === 'off') {
    expect(t.amps.softOff[d]).toBeLessThan(0.01);
    expect(t.groupAfterSoftOff[d]).toBe(0);
  } else {
    expect(t.amps.softOff[d]).toBeGreaterThan(0.1);
    expect(t.amps.softOff[d]).toBeLessThan(0.3);
    expect(t.groupAfterSoftOff[d]).toBeGreaterThan(0);
  }
}

describe.concurrent('built-in firmware profiles: powered, soft power-off, power cut', () => {
  it('leaky-when-off (drone), clean (controller), leaky-dns (phone, with app actions)', async () => {
    const t = await runTrial(
      { drone: 'leaky-when-off', controller: 'clean', phone: 'leaky-dns' },
      {
        poweredMs: 5000,
        softOffMs: 4500,
        during: async (lab, _T0, marks, t) => {
          // Once the app has run a while, close it.
          await waitFor(() => /boot/.test(t.console('phone')), 10_000, 'phone boot');
          await new Promise((r) => setTimeout(r, 1500));
          marks.appClosed = Date.now();
          expect(lab.sendDeviceAction('phone', 'app: close')).toBe(true);
        },
      },
    );
    trials.push(t);
    for (const c of Object.values(t.captures)) expect(c.lossy).toBe(false);
    for (const d of ['drone', 'controller', 'phone'] as const) {
      expectLabTraffic(t, d);
      expectPowerCut(t, d);
    }
    // leaky-when-off: clean while powered...
    expect(t.packets('drone', egress('drone'), t.T0, t.T1)).toEqual([]);
    expect(t.packets('drone', `src host ${A.drone} and udp dst port 53`, t.T0, t.T1)).toEqual([]);
    // ...after the soft power-off: radio busy, DNS then HTTPS home, standby current.
    const [s, e] = afterSoftOff(t);
    expect(t.packets('air0', `src host ${AIR.drone} and udp dst port 5600`, s, e).length).toBeGreaterThan(5);
    const dns = t.packets('drone', `src host ${A.drone} and udp dst port 53`, t.T1, e);
    expect(dns.length).toBeGreaterThan(0);
    expect(dns[0]!.line).toMatch(/A\? flightrecord\.vendor\.example\./);
    const syn = t.packets('drone', `src host ${A.drone} and dst host 203.0.113.10 and tcp dst port 443 and tcp[tcpflags] & tcp-syn != 0`, t.T1, e);
    expect(syn.length).toBeGreaterThan(0);
    expect(syn[0]!.t).toBeGreaterThanOrEqual(dns[0]!.t);
    expect(t.ascii('drone', 'dst host 203.0.113.10 and tcp dst port 443')).toContain('flightrecord.vendor.example');
    expectCurrents(t, 'drone', 'standby');
    // clean: silent after soft-off, nothing left running.
    expect(t.packets('controller', egress('controller'))).toEqual([]);
    expectSilentAfterSoftOff(t, 'controller');
    expectCurrents(t, 'controller', 'off');
    // leaky-dns on the phone: asks the vendor's name while powered; the app closed on request.
    const q = t.packets('phone', `src host ${A.phone} and udp dst port 53`, t.T0, t.T1);
    expect(q.length).toBeGreaterThan(0);
    expect(q[0]!.line).toMatch(/A\? flightrecord\.vendor\.example\./);
    // 0.5 s after the firmware took the action (its console clock), not after the test sent it.
    const appClosed = Math.max(t.marks.appClosed!, t.consoleAt('phone', 'action "app: close"') ?? 0);
    expect(t.packets('phone', `src host ${A.phone} and udp dst port 14551`, appClosed + 500, t.T1)).toEqual([]);
    expect(t.console('phone')).toMatch(/action "app: close"/);
    expectSilentAfterSoftOff(t, 'phone');
    expectCurrents(t, 'phone', 'off');
  }, 60_000);

  it('zombie-off (drone), leaky-https (controller), leaky-http (phone)', async () => {
    const t = await runTrial({ drone: 'zombie-off', controller: 'leaky-https', phone: 'leaky-http' }, { poweredMs: 4500, softOffMs: 3000 });
    trials.push(t);
    for (const c of Object.values(t.captures)) expect(c.lossy).toBe(false);
    for (const d of ['drone', 'controller', 'phone'] as const) {
      expectLabTraffic(t, d);
      expectSilentAfterSoftOff(t, d);
      expectPowerCut(t, d);
    }
    // zombie-off: clean, silent after soft-off, but a process lingers and draws standby current.
    expect(t.packets('drone', egress('drone'))).toEqual([]);
    expectCurrents(t, 'drone', 'standby');
    // leaky-https: a TLS ClientHello naming the vendor, to an outside address.
    expect(t.packets('controller', `src host ${A.controller} and dst host 203.0.113.10 and tcp dst port 443`, t.T0, t.T1).length).toBeGreaterThan(0);
    expect(t.ascii('controller', 'dst host 203.0.113.10 and tcp dst port 443')).toContain('flightrecord.vendor.example');
    expectCurrents(t, 'controller', 'off');
    // leaky-http: a POST with a Host header, to an outside address.
    const http = t.ascii('phone', 'dst host 203.0.113.11 and tcp dst port 80');
    expect(http).toContain('POST /v1/flightlog HTTP/1.1');
    expect(http).toContain('Host: api.vendor.example');
    expectCurrents(t, 'phone', 'off');
  }, 60_000);

  it('leaky-delayed (drone, delay 2s), leaky-udp (controller), leaky-ipv6 (phone)', async () => {
    const t = await runTrial(
      { drone: 'leaky-delayed', controller: 'leaky-udp', phone: 'leaky-ipv6' },
      { poweredMs: 5000, softOffMs: 3000, params: { drone: { delay: '2s' } } },
    );
    trials.push(t);
    for (const c of Object.values(t.captures)) expect(c.lossy).toBe(false);
    for (const d of ['drone', 'controller', 'phone'] as const) {
      expectLabTraffic(t, d);
      expectSilentAfterSoftOff(t, d);
      expectPowerCut(t, d);
      expectCurrents(t, d, 'off');
    }
    // leaky-delayed: nothing leaves before the delay, then it phones home.
    const out = t.packets('drone', `${egress('drone')} or (src host ${A.drone} and udp dst port 53)`, t.T0, t.T1);
    expect(out.length).toBeGreaterThan(0);
    // The delay runs from the firmware's boot (its console clock), which is after power-on.
    expect(out[0]!.t - t.consoleAt('drone', ': boot (')!).toBeGreaterThanOrEqual(2000);
    expect(out.some((p) => /203\.0\.113\.10\.443/.test(p.line))).toBe(true);
    // leaky-udp: a blob by UDP to an outside address.
    expect(t.packets('controller', `src host ${A.controller} and dst host 203.0.113.12 and udp dst port 9000`, t.T0, t.T1).length).toBeGreaterThan(0);
    // leaky-ipv6: the same over IPv6, from the phone's lab v6 address to 2001:db8::10.
    expect(t.packets('phone', `src host ${A6.phone} and dst host 2001:db8::10 and udp dst port 9000`, t.T0, t.T1).length).toBeGreaterThan(0);
  }, 60_000);
});
