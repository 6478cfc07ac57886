/** The analysis seam: egress scan of network captures, the streaming reader, the endpoint catalogue. */
export {
  scanCaptures,
  NetworkScanner,
  fileLabel,
  ANALYZER_VERSION,
  CANARY_LOOKBACK_MS,
  type ScanOptions,
  type NetworkScan,
  type FlowSummary,
  type DnsQuery,
  type SeenCanary,
  type CaptureDamage,
  type FileSummary,
  type SealKeep,
} from './scan.js';
export {
  readCapture,
  type CapturePacket,
  type CaptureInfo,
  type CaptureFormat,
  type CaptureDamageInfo,
  type PacketCallback,
  type ReadCaptureOptions,
} from './capture-reader.js';
export { loadCatalogue, type EndpointCatalogue, type EndpointEntry, type EndpointMatch } from './catalogue.js';
export { EgressPolicy } from './egress-policy.js';
export { CaptureInputError, LabSpecError, CatalogueError } from './errors.js';
export { worstVerdict, type Verdict, type Finding, type NetworkFinding, type FoundName } from './finding.js';
export { LINK_CONTROL_ETHERTYPES, PPP_CONTROL_PROTOCOLS, CISCO_SNAP_CONTROL } from './frame-types.js';
export { QuicCryptoAssembler, clientInitialKeys, decryptInitial, cryptoFrames } from './quic-initial.js';
export { encodeCanary, decodeCanary, CANARY_PORT, CANARY_MAGIC, type Canary } from './canary.js';
export { readPowerCsv, type PowerSample } from './power-csv.js';
