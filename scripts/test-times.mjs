// A node --test reporter for scripts/run-tests.sh: per test file, the seconds its top-level tests and suites took
// (file-level before/after hooks not counted), one "SECONDS FILE" line each, slowest first, written to the file
// $DESTEK_TEST_TIMES (the runner's groups may run at the same time: each names its own). Yields nothing itself.
import fs from 'node:fs';

export default async function* testTimes(source) {
  const files = new Map();
  for await (const ev of source) {
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && ev.data.nesting === 0 && ev.data.file) {
      files.set(ev.data.file, (files.get(ev.data.file) || 0) + (ev.data.details?.duration_ms || 0));
    }
  }
  const lines = [...files].sort((a, b) => b[1] - a[1])
    .map(([file, ms]) => `${(ms / 1000).toFixed(1)} ${file.replace(/^.*\/tests\//, '')}\n`);
  if (process.env.DESTEK_TEST_TIMES) fs.writeFileSync(process.env.DESTEK_TEST_TIMES, lines.join(''));
}
