// Preloaded by the CLI test (`node --expose-gc --import ./gc-pressure.mjs bin/relay.mjs ...`): collects garbage
// every 100 ms, so whatever the CLI holds only weakly is gone within the test's few seconds, as it is after
// about 15 s of a real session. The CLI itself is unchanged.
setInterval(() => globalThis.gc(), 100).unref();
