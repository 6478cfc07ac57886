/** Test helper run as a child process: builds a lab, starts a process in it, reports, then waits to be killed. */
import { spawn } from 'node:child_process';
import { VirtualLab } from '../../src/sim/lab/index.js';
import { labRig } from './lab-rig.js';

const [runId, runDir] = process.argv.slice(2) as [string, string];
const lab = await VirtualLab.up({ runId, rig: labRig(), runDir });
const sleeper = spawn('ip', ['netns', 'exec', lab.netns('drone'), 'sleep', '600'], { detached: true, stdio: 'ignore' });
sleeper.unref();
process.stdout.write(JSON.stringify({ ready: true, sleeper: sleeper.pid, netns: lab.allNetns() }) + '\n');
setInterval(() => undefined, 1000);
