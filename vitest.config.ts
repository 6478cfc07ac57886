import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that run whole scenarios on the virtual rig, then the longest of the others, longest
 * first (measured on a loaded two-core host, docs/developer/testing.md). Vitest alone starts the files it has no
 * timing for largest first, which put the small files of long end-to-end runs last, with one
 * worker idle at the end; this starts them first, and the many short files fill in behind.
 */
const LONG_FIRST = [
  'test/regression/suite-e2e.test.ts',
  'test/e2e/',
  'test/faults/',
  'test/firmware/profiles.test.ts',
  // one whole run each, with a browser or a rotating capture (60 to 70 s at load 20)
  'test/dashboard/dashboard-chromium.test.ts',
  'test/capture/rotation.test.ts',
  // the longest of the rest (36 to 66 s each)
  'test/lab/lab.test.ts',
  'test/analysis/fixtures.test.ts',
  'test/mavlink/autopilots.test.ts',
  'test/capture/capture.test.ts',
];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const rel = f.moduleId.replaceAll('\\', '/');
      const i = LONG_FIRST.findIndex((p) => rel.includes(`/${p}`));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // A stable sort: within a rank, Vitest's own order (its timings when it has them).
    return sorted.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/utils/global-setup.ts'],
    // picocolors colours output whenever CI is set, even into a pipe: the tests read Airlock's
    // console text, so they ask for it plain (what a technician's terminal shows in colour).
    env: { NO_COLOR: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Rig tests build network namespaces and spawn simulators. A run mostly waits (14 s of wall
    // time for 5 s of CPU): three files at once keep two cores busy (docs/developer/testing.md).
    pool: 'forks',
    maxWorkers: 3,
    // Files mark their independent runs concurrent (describe.concurrent), but they run one at a
    // time: two files of two runs each put four virtual rigs on the two cores, and a fresh-clone
    // CI run that way had a supply simulator miss its 3 s reply deadline (a rig fault, exit 4)
    // with no measured gain (docs/developer/testing.md). Raise it on a host with more cores.
    maxConcurrency: 1,
    sequence: { sequencer: LongFirst },
  },
});
