/**
 * Runs fetchSinkholeLog once and prints its report (test/lab/ssh-fetch.test.ts starts it inside a
 * private mount namespace whose /root holds only the test's SSH key and known_hosts).
 * argv: <ssh destination> <remote path> <run dir> <fromMs> <toMs>
 */
import { fetchSinkholeLog } from '../../src/rig/sinkhole-fetch.js';

const [ssh, file, runDir, from, to] = process.argv.slice(2);
const report = await fetchSinkholeLog({ ssh: ssh!, path: file! }, { fromMs: Number(from), toMs: Number(to) }, runDir!, { maxWaitMs: 0 });
process.stdout.write(JSON.stringify(report) + '\n');
