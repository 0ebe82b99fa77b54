// Timing-sensitive tests (real rate limits measured by a fake Bot API's clock) run after the main
// suite, alone, so the other test files' CPU load cannot bunch up the fake's arrival timestamps.
export default {
  extensions: ['ts'],
  files: ['test/isolated/**/*.test.ts'],
  timeout: '120s',
  concurrency: 1,
};
