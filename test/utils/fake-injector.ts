/**
 * A CanarySender (src/devices/capture/canary-sender.ts) whose one injection point, `drone`
 * (10.231.0.11), is a Node child speaking canary-child.ts's stdout protocol from a script the test
 * writes, with the virtual rig's canary targets and no send interval (the child reports what it
 * reports; nothing is paced).
 */
import { CanarySender, type CanarySenderOptions } from '../../src/devices/capture/canary-sender.js';

export const FAKE_INJECTOR = { name: 'drone', source: '10.231.0.11' } as const;

export function fakeInjectorSender(script: string, opts: Pick<CanarySenderOptions, 'runId' | 'secret' | 'ledgerDir' | 'ledgerFile'>): CanarySender {
  return new CanarySender({
    ...opts,
    injectors: [{ ...FAKE_INJECTOR, argv: [process.execPath, '-e', script] }],
    targets: { lab: '10.231.0.1', outside: '203.0.113.99' },
    intervalMs: 0,
  });
}
