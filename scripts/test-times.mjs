// A node --test reporter for scripts/run-tests.sh: per test file, the seconds its top-level tests and suites took
// (file-level before/after hooks not counted), one "SECONDS FILE" line each, slowest first.
export default async function* testTimes(source) {
  const files = new Map();
  for await (const ev of source) {
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && ev.data.nesting === 0 && ev.data.file) {
      files.set(ev.data.file, (files.get(ev.data.file) || 0) + (ev.data.details?.duration_ms || 0));
    }
  }
  for (const [file, ms] of [...files].sort((a, b) => b[1] - a[1])) {
    yield `${(ms / 1000).toFixed(1)} ${file.replace(/^.*\/tests\//, '')}\n`;
  }
}
