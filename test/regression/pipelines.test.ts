/**
 * The example pipelines in examples/: GitLab's file parses and validates against a schema of the
 * keys it uses (test/fixtures/regression/gitlab-ci-subset.schema.json), and its jobs are wired as
 * the fleet needs; the Jenkinsfile has the stages and steps the fleet needs. The suite the jobs
 * call (suites/nightly.yaml) loads, and each of its scenarios validates with its set values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../src/regression/index.js';
import { loadScenario, parseDuration } from '../../src/config/index.js';

const root = path.resolve(__dirname, '../..');
type Job = {
  stage?: string;
  extends?: string;
  script?: string[];
  tags?: string[];
  when?: string;
  needs?: { job: string; artifacts?: boolean }[];
  variables?: Record<string, string>;
  artifacts?: { when?: string; paths?: string[]; reports?: { junit?: string }; expose_as?: string };
};

function gitlab(): { doc: Record<string, unknown>; jobs: Record<string, Job> } {
  const doc = parse(fs.readFileSync(path.join(root, 'examples/gitlab-ci.yml'), 'utf8')) as Record<string, unknown>;
  const jobs: Record<string, Job> = {};
  for (const [name, v] of Object.entries(doc)) {
    if (['stages', 'variables', 'workflow'].includes(name) || name.startsWith('.')) continue;
    const job = v as Job;
    const base = job.extends ? (doc[job.extends] as Job) : {};
    jobs[name] = { ...base, ...job };
  }
  return { doc, jobs };
}

describe('examples/gitlab-ci.yml', () => {
  it('parses and validates against the schema of the keys it uses', () => {
    const { doc } = gitlab();
    const schema = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/regression/gitlab-ci-subset.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail: a job with a misspelt key or script of the wrong type is refused', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/regression/gitlab-ci-subset.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate({ stages: ['suite'], job: { stage: 'suite', scirpt: ['x'] } })).toBe(false);
    expect(validate({ stages: ['suite'], job: { stage: 'suite', script: 42 } })).toBe(false);
    expect(validate({ stages: ['suite'], job: { stage: 'suite', script: ['x'], artifacts: { reports: { junit: 1 } } } })).toBe(false);
  });

  it('one suite job per bench, tagged with the rig name, running the nightly suite with the newest build; artifacts and junit kept', () => {
    const { doc, jobs } = gitlab();
    const stages = doc.stages as string[];
    const suites = Object.entries(jobs).filter(([n]) => n.startsWith('nightly:'));
    expect(suites.length).toBeGreaterThanOrEqual(2);
    for (const [name, job] of Object.entries(jobs)) expect(stages).toContain(job.stage);
    for (const [name, job] of suites) {
      const rig = name.slice('nightly:'.length);
      expect(job.tags).toEqual([rig]);
      expect(job.variables?.RIG).toBe(rig);
      const script = job.script!.join('\n');
      expect(script).toContain('./airlock suite suites/nightly.yaml --rig "rig/${RIG}.yaml" --firmware "drone=${IMAGE}" --out "bundles/${RIG}"');
      expect(script).toMatch(/ls -1t "\$FIRMWARE_DIR"\/\*\.bin \| head -n 1/); // the newest build
      expect(job.artifacts?.when).toBe('always');
      expect(job.artifacts?.paths).toContain('bundles/');
      // the junit glob reaches <out>/<suite dir>/junit.xml (one per suite), not the runs' own files
      expect(job.artifacts?.reports?.junit).toBe('bundles/*/*/junit.xml');
      // the scheduled trigger
      expect(JSON.stringify((doc.workflow as { rules: unknown }).rules)).toContain('$CI_PIPELINE_SOURCE == \\"schedule\\"');
    }
  });

  it('a compare job per bench on that bench, after its suite, against the last successful pipeline, publishing the report', () => {
    const { jobs } = gitlab();
    const compares = Object.entries(jobs).filter(([n]) => n.startsWith('compare:'));
    expect(compares.map(([n]) => n).sort()).toEqual(['compare:bench-1', 'compare:bench-2']);
    for (const [name, job] of compares) {
      const rig = name.slice('compare:'.length);
      expect(job.tags).toEqual([rig]);
      expect(job.needs).toEqual([{ job: `nightly:${rig}`, artifacts: true }]);
      expect(job.when).toBe('always'); // also when the suite failed
      const script = job.script!.join('\n');
      expect(script).toContain('/jobs/artifacts/${CI_COMMIT_REF_NAME}/download?job=nightly:${RIG}');
      expect(script).toContain('./airlock compare "$A" "$B" > compare.md && rc=0 || rc=$?');
      expect(script).toContain('exit $rc');
      expect(job.artifacts?.paths).toEqual(['compare.md', 'compare.json']);
      expect(job.artifacts?.expose_as).toBeTruthy();
    }
  });

  it('the suite the jobs call loads, and each scenario validates with its set values and stays short', () => {
    const suite = loadSuite(path.join(root, 'suites/nightly.yaml'));
    expect(suite.scenarios.map((s) => path.basename(s.scenario))).toEqual(['system-off.yaml', 'standby-on-ground.yaml', 'app-connected-no-flight.yaml']);
    for (const s of suite.scenarios) {
      const sc = loadScenario(s.scenario, { set: s.set });
      for (const v of Object.values(s.set)) expect(parseDuration(v)).toBeLessThanOrEqual(15_000);
      expect(sc.phases.length).toBeGreaterThan(0);
    }
  });
});

describe('examples/Jenkinsfile', () => {
  const text = fs.readFileSync(path.join(root, 'examples/Jenkinsfile'), 'utf8');
  const code = text.replace(/\/\/.*$/gm, ''); // without comments

  it('has the stages and steps the fleet needs', () => {
    for (const stage of ["stage('Nightly')", "stage('Suite')", "stage('Compare with last good')"]) expect(code).toContain(stage);
    expect(code).toMatch(/triggers\s*\{\s*cron\('H 1 \* \* \*'\)\s*\}/);
    expect(code).toMatch(/axis\s*\{\s*name 'RIG'\s*values 'bench-1', 'bench-2'\s*\}/);
    expect(code).toContain('agent { label "${RIG}" }');
    expect(code).toContain("./airlock suite suites/nightly.yaml --rig 'rig/${RIG}.yaml' --firmware 'drone=${image}' --out 'bundles/${RIG}'");
    expect(code).toContain('junit testResults: "bundles/${RIG}/*/junit.xml"');
    expect(code).toContain('archiveArtifacts artifacts: "bundles/${RIG}/**"');
    expect(code).toContain('selector: lastSuccessful()');
    expect(code).toContain("./airlock compare '${a}' '${b}' > compare.md");
    expect(code).toContain("archiveArtifacts artifacts: 'compare.md,compare.json'");
  });

  it('maps exit codes to build results and keeps braces balanced', () => {
    expect(code).toMatch(/if \(rc == 3\) \{ unstable\(/);
    expect(code).toMatch(/error\("\$\{what\}: exit \$\{rc\}/);
    const stripped = code.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '');
    let depth = 0;
    for (const ch of stripped) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
  });
});
