/** Shared set-up for the MAVLink tests: a link config, a quiet logger, a temp directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { RigLink } from '../../src/config/types.js';

export function linkConfig(endpoint: string, extra: Partial<RigLink> = {}): RigLink {
  return {
    name: 'drone',
    endpoint,
    systemId: 1,
    gcsSystemId: 255,
    heartbeatTimeoutMs: 2500,
    autopilot: 'ardupilot',
    ...extra,
  };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-mav-'));
}

export const silentLog = pino({ level: 'silent' });
