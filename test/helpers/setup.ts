// Preloaded by bunfig.toml: Bun ignores a `timeout` key there, and tests start
// real servers, browsers and builds on a 2-core box.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
