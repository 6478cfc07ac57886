/**
 * judgeRun holds a capture's files to the number of packets its capture child wrote (the
 * CaptureRecord's `records`, over every rotated part): a part missing from the list (or a file
 * that lost records) leaves packets nobody judged, so the run is INCONCLUSIVE, never PASS on the
 * parts that happen to be clean. Here the missing part holds a leak.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRig, loadScenario } from "../../src/config/index.js";
import { judgeRun } from "../../src/verdict/index.js";
import { pcapGlobalHeader, pcapRecord } from '../utils/random-capture.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), "airlock-parts-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

function udp(src: string, dst: string, dport: number): Buffer {
  const ip = Buffer.alloc(28);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(28 + 4, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  src.split(".").forEach((o, i) => ip.writeUInt8(Number(o), 12 + i));
  dst.split(".").forEach((o, i) => ip.writeUInt8(Number(o), 16 + i));
  ip.writeUInt16BE(40000, 20);
  ip.writeUInt16BE(dport, 22);
  ip.writeUInt16BE(8 + 4, 24);
  return Buffer.concat([ip, Buffer.from("data")]);
}

/** A classic pcap (raw IP, microseconds) of `frames` at their times. */
function pcap(file: string, frames: Array<[number, Buffer]>): void {
  const gh = pcapGlobalHeader(101);
  const recs = frames.map(([ms, f]) => pcapRecord(ms, f));
  writeFileSync(file, Buffer.concat([gh, ...recs]));
}

describe("a rotated capture judged over its parts", () => {
  it("a part missing from the list makes the run INCONCLUSIVE (the capture wrote more packets than the files hold)", async () => {
    const runDir = mkdtempSync(path.join(tmp, "run-"));
    const scenarioFile = path.join(runDir, "scenario.yaml");
    writeFileSync(
      scenarioFile,
      "scenario: parts\nsettle: 100ms\nphases:\n  - name: quiet\n    steps: [{ dwell: 4s }]\n    assert: [{ no_egress: {} }]\n",
    );
    const scenario = loadScenario(scenarioFile);
    const rig = loadRig(path.resolve("rig/virtual.yaml"));
    // Lab chatter every 100 ms in both parts (no window is blind); a leak only in the second part.
    const lab = (from: number, to: number): Array<[number, Buffer]> =>
      Array.from({ length: (to - from) / 100 }, (_, i) => [
        T0 + from + i * 100,
        udp("10.231.0.10", "10.231.0.30", 14550),
      ]);
    const part0 = lab(-500, 2000);
    const part1 = [
      ...lab(2000, 4500),
      [T0 + 3000, udp("10.231.0.10", "203.0.113.5", 443)] as [number, Buffer],
    ].sort((a, b) => a[0] - b[0]);
    pcap(path.join(runDir, "net-drone.pcap"), part0);
    pcap(path.join(runDir, "net-drone.1.pcap"), part1);
    const judge = (files: string[]) =>
      judgeRun({
        runDir,
        rig,
        scenario,
        windows: [{ startMs: T0, endMs: T0 + 4000 }],
        capturesStartMs: T0 - 500,
        capturesEndMs: T0 + 4500,
        incomplete: new Set(),
        captures: [
          {
            name: "drone",
            kind: "network",
            files,
            records: part0.length + part1.length,
            dropped: 0,
            lossy: false,
          },
        ],
        // A run with canaries (none fell in this short window), so blindness alone does not decide.
        canaries: { secret: "k", sent: [], capturesFor: { drone: ["drone"] } },
      });

    // Both parts listed: the leak is found.
    const both = await judge(["net-drone.pcap", "net-drone.1.pcap"]);
    expect(both.phases[0]!.verdict).toBe("FAIL");
    // The first part alone, when the capture wrote only it: PASS (the check is not blind itself).
    const alone = await judgeRun({
      runDir,
      rig,
      scenario,
      windows: [{ startMs: T0, endMs: T0 + 2000 }],
      capturesStartMs: T0 - 500,
      capturesEndMs: T0 + 2000,
      incomplete: new Set(),
      captures: [
        {
          name: "drone",
          kind: "network",
          files: ["net-drone.pcap"],
          records: part0.length,
          dropped: 0,
          lossy: false,
        },
      ],
      canaries: { secret: "k", sent: [], capturesFor: { drone: ["drone"] } },
    });
    expect(alone.phases[0]!.verdict).toBe("PASS");
    // The second part missing from the list: not PASS on the first part alone.
    const first = await judge(["net-drone.pcap"]);
    expect(first.phases[0]!.verdict).toBe("INCONCLUSIVE");
    expect(first.verdict).toBe("INCONCLUSIVE");
    const noEgress = first.phases[0]!.assertions.find(
      (a) => a.kind === "no_egress",
    )!;
    expect(noEgress.verdict).toBe("INCONCLUSIVE");
    expect(JSON.stringify(noEgress)).toContain(
      `the capture wrote ${part0.length + part1.length} packets but its 1 file(s) hold ${part0.length}`,
    );
  });
});
