#!/usr/bin/env node
// Prints the one line CI reads, "N passed, N failed", from jest's --json reports (one or more
// files, summed). A missing or unreadable report (a stage that did not run its tests) counts as
// one failed test; a run with no test executed fails too, and both say so on stderr.
const { readFileSync } = require('node:fs');

const files = process.argv.slice(2);
let passed = 0;
let failed = 0;
let ok = files.length > 0;
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`no jest report at ${file} (its stage did not run its tests): ${error.message}`);
    failed += 1;
    ok = false;
    continue;
  }
  const filePassed = report.numPassedTests ?? 0;
  const fileFailed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  const pending = report.numPendingTests ?? 0;
  if (pending > 0) console.error(`${file}: ${pending} test(s) skipped`);
  if (filePassed === 0) console.error(`${file}: no test passed`);
  passed += filePassed;
  failed += fileFailed;
  ok = ok && fileFailed === 0 && filePassed > 0 && report.success === true;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
