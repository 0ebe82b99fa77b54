// The pages in Debian's Chromium (test/browser). A browser per file is heavy on a 2-core machine,
// so these run after the main suite, two files at a time, and do not starve its timing-sensitive
// tests (outages, stalls) of CPU.
export default {
  extensions: ['ts'],
  files: ['test/browser/**/*.test.ts'],
  timeout: '120s',
  concurrency: 2,
};
