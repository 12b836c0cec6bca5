#!/usr/bin/env node
// Prints the one line CI reads, "N passed, N failed", from jest's --json output.
// A missing or empty report, or a run with no test executed, is a failure that shows.
const { readFileSync } = require('node:fs');

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`no jest report at ${file}: ${error.message}`);
  console.log('0 passed, 0 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
const pending = report.numPendingTests ?? 0;
if (pending > 0) console.error(`${pending} test(s) skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 && report.success ? 0 : 1);
