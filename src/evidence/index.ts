/** The evidence seam: run directory, manifest, signing, verification, bundles and reports. */
export { RunDirectory, TimelineWriter, runTimestamp } from './run-directory.js';
export { writeManifest, readManifest, MANIFEST_FILE, SIGNATURE_FILE, TEST_RESULT_FILE, type Manifest, type ManifestFile, type WriteManifestOptions } from './manifest.js';
export { signRun, sealRun, PREDICATE_TYPE } from './signing.js';
export { buildTestResultStatement, testResultOf, TEST_RESULT_PREDICATE_TYPE, type TestResult } from './test-result.js';
export { loadSigningKey, fingerprintOfPrivateKey, loadPublicKey, loadTrustedKeys, parseKeyring, generateKeyPair, fingerprintOf, SIGNING_KEY_ENV, KEYRING_ENV, type KeyPairPem, type TrustedKey } from './keys.js';
export { verifyRun, formatVerifyReport, type VerifyReport, type VerifyOptions, type Reanalyze, type ReanalysisResult } from './verify.js';
export { createBundle, unpackBundle, type BundleInfo } from './bundle.js';
export { writeReports, REPORT_FILES, type WriteReportsOptions } from './reports.js';
export { loadControlsMapping, readControlsFile, observeControls, shippedControls, type ControlsMapping, type ControlsSection, type ControlEntry } from './controls.js';
export { junitForRun, junitForSuite, type SuiteItem } from './junit.js';
export { summaryMarkdown } from './summary.js';
export { RunDirectoryError, KeyError, BundleInputError, ReportError } from './errors.js';
export type { RunResult, PhaseResult, AssertionResult, CaptureRecord, FirmwareRecord } from './result.js';
export { consoleFinding, findingLine, findingNames } from './finding-text.js';
export { renderRunReport, signerFromVerify, type RunReportOptions } from './run-report.js';
export { printPdf, findChromium, CHROMIUM_ENV } from './print-pdf.js';
