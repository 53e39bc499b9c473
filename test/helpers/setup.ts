// Preloaded by bunfig.toml. Tests start real servers, browsers and builds on a 2-core
// box that others share, so a test gets 30 s, not Bun's 5 s. Bun 1.4.5 ignores a
// `timeout` key in bunfig.toml, and setDefaultTimeout holds only for the test file it
// is called from (called here, only the first file got it): every test file gets the
// call prepended, on its first line so stack traces keep their line numbers.
import { plugin } from "bun";

const PREFIX = `import { setDefaultTimeout as __setDefaultTimeout } from "bun:test"; __setDefaultTimeout(30_000); `;

plugin({
  name: "30 s per test",
  setup(build) {
    build.onLoad({ filter: /\.test\.ts$/ }, async ({ path }) => ({ contents: PREFIX + (await Bun.file(path).text()), loader: "ts" }));
  },
});
