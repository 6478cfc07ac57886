import type { ControlsMapping } from '../controls.js';

/** What the reports need besides the run record. */
export interface ReportOptions {
  /** The control mapping in effect; it is copied into the run as controls.json. */
  controls: ControlsMapping;
  /** Fingerprint of the key the run will be signed with, for the reports' first page. */
  signerFingerprint?: string;
}
