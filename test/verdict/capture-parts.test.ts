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
import { judgeRun } from "../../src/verdict/index.js";
import { scenarioRun } from "../utils/live-run.js";
import { ipv4Udp, pcapGlobalHeader, pcapRecord } from "../utils/random-capture.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "airlock-parts-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

/** A UDP packet of 4 bytes from port 40000 (raw IP). */
const udp = (src: string, dst: string, dport: number): Buffer => ipv4Udp(src, dst, 40000, dport, Buffer.from("data"));

/** A classic pcap (raw IP, microseconds) of `frames` at their times. */
function pcap(file: string, frames: Array<[number, Buffer]>): void {
  const gh = pcapGlobalHeader(101);
  const recs = frames.map(([ms, f]) => pcapRecord(ms, f));
  writeFileSync(file, Buffer.concat([gh, ...recs]));
}

describe("a rotated capture judged over its parts", () => {
  it("a part missing from the list makes the run INCONCLUSIVE (the capture wrote more packets than the files hold)", async () => {
    const { runDir, scenario, rig } = scenarioRun(
      tmp,
      "scenario: parts\nsettle: 100ms\nphases:\n  - name: quiet\n    steps: [{ dwell: 4s }]\n    assert: [{ no_egress: {} }]\n",
    );
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
    // The capture's files judged against the packets it wrote; the window and the captures end `until` ms after T0.
    const judge = (files: string[], records = part0.length + part1.length, until = { window: 4000, captures: 4500 }) =>
      judgeRun({
        runDir,
        rig,
        scenario,
        windows: [{ startMs: T0, endMs: T0 + until.window }],
        capturesStartMs: T0 - 500,
        capturesEndMs: T0 + until.captures,
        incomplete: new Set(),
        captures: [{ name: "drone", kind: "network", files, records, dropped: 0, lossy: false }],
        // A run with canaries (none fell in this short window), so blindness alone does not decide.
        canaries: { secret: "k", sent: [], capturesFor: { drone: ["drone"] } },
      });

    // Both parts listed: the leak is found.
    const both = await judge(["net-drone.pcap", "net-drone.1.pcap"]);
    expect(both.phases[0]!.verdict).toBe("FAIL");
    // The first part alone, when the capture wrote only it: PASS (the check is not blind itself).
    const alone = await judge(["net-drone.pcap"], part0.length, { window: 2000, captures: 2000 });
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
