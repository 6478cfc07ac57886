/**
 * An LCUS relay board on a serial stream, byte for byte: 4-byte frames A0 ch state checksum,
 * frames with a wrong checksum or an unknown channel are ignored, and nothing is answered.
 * Fault modes make it answer what a healthy board never sends (garbage, a frame with a wrong
 * checksum, half a frame) so the driver's check of the port can be tested.
 */
import { LCUS_START, lcusChecksumOk } from '../../devices/power/lcus-frame.js';
import { GARBAGE, isContact, isLoad, type SimFault, type SimStream, type SimWiring } from './sim-support.js';

export interface LcusSimOptions {
  channels: Record<number, SimWiring>;
  /** Number of relays (1, 2, 4 or 8; default: the highest wired channel, at least 1). */
  relays?: number;
  fault?: SimFault;
}

export interface RelayEvent {
  channel: number;
  closed: boolean;
  /** performance.now() when the frame arrived. */
  at: number;
}

export class LcusSim {
  fault: SimFault;
  readonly relays = new Map<number, boolean>();
  readonly events: RelayEvent[] = [];
  /** Frames dropped for a bad checksum. */
  rejected = 0;
  private buf = Buffer.alloc(0);

  constructor(
    private readonly stream: SimStream,
    private readonly opts: LcusSimOptions,
  ) {
    this.fault = opts.fault ?? null;
    const count = opts.relays ?? Math.max(1, ...Object.keys(opts.channels).map(Number));
    for (let ch = 1; ch <= count; ch++) this.relays.set(ch, false);
    stream.on('data', (chunk) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length > 0) {
      if (this.buf[0] !== LCUS_START) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < 4) return;
      const frame = Buffer.from(this.buf.subarray(0, 4));
      this.buf = this.buf.subarray(4);
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const at = performance.now();
    if (!lcusChecksumOk(frame)) {
      this.rejected++;
      return;
    }
    const [, ch, state] = frame;
    if (this.relays.has(ch) && (state === 0 || state === 1)) {
      const closed = state === 1;
      this.relays.set(ch, closed);
      this.events.push({ channel: ch, closed, at });
      const w = this.opts.channels[ch];
      if (isLoad(w)) w.setPowered(closed);
      else if (isContact(w)) w.setClosed(closed);
    }
    switch (this.fault) {
      case 'garbage':
        this.stream.write(GARBAGE);
        break;
      case 'checksum':
        this.stream.write(Buffer.from([frame[0], frame[1], frame[2], (frame[3] + 1) & 0xff]));
        break;
      case 'half':
        this.stream.write(frame.subarray(0, 2));
        break;
      default:
      // A healthy board answers nothing.
    }
  }
}
