/** The data of one judged window: its network scan (made once by the engine, shared by the window's rules) and the sinkhole's records. */
import path from 'node:path';
import type { NetworkScan } from '../analysis/index.js';
import type { JudgeInput } from './input.js';
import { readSinkholeRecords, type SinkholeRecord } from './sinkhole-witness.js';

export interface Window {
  fromMs: number;
  toMs: number;
}

export class WindowData {
  private sinkhole?: SinkholeRecord[];

  constructor(
    readonly input: JudgeInput,
    readonly window: Window,
    private readonly scan: NetworkScan,
  ) {}

  network(): Promise<NetworkScan> {
    return Promise.resolve(this.scan);
  }

  sinkholeRecords(): SinkholeRecord[] {
    this.sinkhole ??= readSinkholeRecords(path.join(this.input.runDir, 'sinkhole.jsonl')).filter(
      (r) => r.timeMs >= this.window.fromMs && r.timeMs < this.window.toMs,
    );
    return this.sinkhole;
  }
}
