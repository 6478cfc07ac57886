/** The data of one judged window: the network scan (made once, shared by the window's assertions) and the sinkhole's records. */
import path from 'node:path';
import { scanCaptures, type NetworkScan } from '../analysis/index.js';
import type { JudgeInput } from './judge.js';
import { readSinkholeRecords, type SinkholeRecord } from './sinkhole-witness.js';

export interface Window {
  fromMs: number;
  toMs: number;
}

/** Lazily scans the network captures once per window and shares the scan between assertions. */
export class WindowData {
  private scan?: Promise<NetworkScan>;
  private sinkhole?: SinkholeRecord[];

  constructor(
    readonly input: JudgeInput,
    readonly window: Window,
  ) {}

  netFiles(): string[] {
    return this.input.captures.filter((c) => c.kind === 'network').flatMap((c) => c.files.map((f) => path.join(this.input.runDir, f)));
  }

  network(): Promise<NetworkScan> {
    this.scan ??= scanCaptures(this.netFiles(), {
      lab: this.input.rig.lab.subnets,
      labNames: this.input.rig.lab.names,
      canarySecret: this.input.canaries?.secret,
      fromMs: this.window.fromMs,
      toMs: this.window.toMs,
      baseDir: this.input.runDir,
    });
    return this.scan;
  }

  sinkholeRecords(): SinkholeRecord[] {
    this.sinkhole ??= readSinkholeRecords(path.join(this.input.runDir, 'sinkhole.jsonl')).filter(
      (r) => r.timeMs >= this.window.fromMs && r.timeMs < this.window.toMs,
    );
    return this.sinkhole;
  }
}

