/** A virtual rig for the lab tests (what rig/virtual.yaml looks like after loading), and unique run ids. */
import { randomBytes } from 'node:crypto';
import type { RigConfig } from '../../src/config/types.js';

export function testRunId(): string {
  return randomBytes(3).toString('hex');
}

export function labRig(): RigConfig {
  return {
    file: '/virtual/test-rig.yaml',
    name: 'virtual-test',
    virtual: true,
    lab: { subnets: ['10.231.0.0/24', 'fd00:a1::/64'], sinkhole: '10.231.0.1', sinkhole6: 'fd00:a1::1', names: ['update.lab'] },
    devices: {
      drone: { name: 'drone', address: '10.231.0.10', address6: 'fd00:a1::10' },
      controller: { name: 'controller', address: '10.231.0.11', address6: 'fd00:a1::11' },
      phone: { name: 'phone', address: '10.231.0.12', address6: 'fd00:a1::12' },
    },
    power: {},
    buttons: {},
    links: {},
    captures: { network: {}, sdr: {}, wifi: {}, ble: {} },
    powerSampleHz: 10,
    canaryIntervalMs: 1000,
  };
}
