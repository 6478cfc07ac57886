/** Radio analysis: sweep CSVs, Wi-Fi and BLE decoding, Remote ID, assertions, waterfalls. */
export { parseSweepLine, readSweepCsv, bandPower, LineSplitter, type SweepRow, type SweepFileInfo } from './sweep-csv.js';
export { decodeOdid, odidFields, mergeOdid, type OdidInfo } from './odid.js';
export { readWifiCapture, parseRadiotap, decodeDot11, decodeWifiRecord, type WifiFrame, type DjiDroneId, type Radiotap } from './dot11.js';
export { readBleCapture, decodeBleRecord, BleAdvertAssembler, type BleAdvert } from './ble.js';
export { RadioCollector, isRadioLinkType, incompleteAdvertReason, type RadioReport, type RadioObservation } from './radio-report.js';
export {
  judgeNoRadio,
  judgeRadioOnly,
  judgeNoRemoteId,
  judgeNoProbeRequests,
  bandPasses,
  emissions,
  type AssertionVerdict,
} from './assertions.js';
export { waterfallData, waterfallSvg, writeWaterfall, writeRadioWaterfalls, type WaterfallBand, type WaterfallPhase } from './waterfall.js';
