/**
 * Standalone virtual vehicle for manual use:
 *   npx tsx src/sim/vehicle/main.ts --path /dev/pts/5 --baud 57600 --sysid 1
 */
import { parseArgs } from 'node:util';
import { startVehicle } from './vehicle.js';

const { values } = parseArgs({
  options: {
    path: { type: 'string' },
    baud: { type: 'string', default: '57600' },
    sysid: { type: 'string', default: '1' },
    'prearm-ms': { type: 'string' },
  },
});
if (!values.path) {
  process.stderr.write('usage: main.ts --path SERIAL_DEVICE [--baud 57600] [--sysid 1] [--prearm-ms 4000]\n');
  process.exit(2);
}
const vehicle = await startVehicle({
  path: values.path,
  baudRate: Number(values.baud),
  systemId: Number(values.sysid),
  prearmDelayMs: values['prearm-ms'] !== undefined ? Number(values['prearm-ms']) : undefined,
  log: (line) => process.stderr.write(`vehicle: ${line}\n`),
});
const stop = () => void vehicle.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The firmware profile protocol: SIGUSR1 = soft power-off (stop transmitting), SIGUSR2 = on again.
process.on('SIGUSR1', () => vehicle.setTransmitting(false));
process.on('SIGUSR2', () => vehicle.setTransmitting(true));
