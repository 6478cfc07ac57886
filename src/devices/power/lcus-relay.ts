/**
 * One relay of an LCUS board, shared by the power and the button driver. The documented
 * protocol is write-only (the board never answers), so after each frame we listen briefly:
 * silence or an exact echo is a healthy board; anything else means the port is not an LCUS
 * board (or the wiring is wrong) and is a rig fault rather than a relay we only believe switched.
 */
import type { DriverContext } from './context.js';
import { POWER_CODES, PowerConfigError, PowerFaultError } from './errors.js';
import { badReply } from './base.js';
import { LCUS_START, lcusChecksumOk, lcusFrame } from './lcus-frame.js';
import { SerialLink } from './serial-link.js';

/**
 * How long to listen for stray bytes after a frame: a tenth of the channel's timeout, at least
 * 20 ms (a CH340 answers, if at all, within a few ms) and at most 200 ms (default timeout 1 s:
 * 100 ms).
 */
export function lcusListenMs(timeoutMs: number): number {
  return Math.min(200, Math.max(20, Math.round(timeoutMs / 10)));
}

export class LcusRelay {
  private readonly link: SerialLink;
  readonly listenMs: number;

  constructor(
    private readonly device: string,
    readonly channel: number,
    port: string | undefined,
    baudRate: number | undefined,
    timeoutMs: number,
    ctx: DriverContext,
  ) {
    this.listenMs = lcusListenMs(timeoutMs);
    if (!Number.isInteger(channel) || channel < 1 || channel > 8) {
      throw new PowerConfigError(device, `LCUS boards have relays 1 to 8, not ${channel}`);
    }
    this.link = new SerialLink({ device, port, baudRate: baudRate ?? 9600 }, ctx);
  }

  /** Close (true) or open (false) the relay; listen `listenMs` for bytes the board should not send. */
  set(closed: boolean, listenMs = this.listenMs): Promise<void> {
    const frame = lcusFrame(this.channel, closed);
    const command = frame.toString('hex').replace(/(..)(?!$)/g, '$1 ').toUpperCase();
    return this.link.run(command, async (io) => {
      await io.write(frame);
      const back = await io.collect(listenMs);
      if (back.length === 0 || back.equals(frame)) return;
      if (back.length === 4 && back[0] === LCUS_START && !lcusChecksumOk(back)) {
        throw new PowerFaultError(
          POWER_CODES.badChecksum,
          this.device,
          command,
          `reply frame ${back.toString('hex')} has checksum ${back[3]}, expected ${(back[0] + back[1] + back[2]) & 0xff}`,
        );
      }
      throw badReply(this.device, command, back, 'no reply (LCUS boards do not answer)');
    });
  }

  /** Open the board's port ahead of a timed sequence. */
  ready(): Promise<void> {
    return this.link.ready('open');
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
