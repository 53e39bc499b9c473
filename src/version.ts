import pkg from "../package.json" with { type: "json" };

/** Baked into compiled executables at build time by the JSON import. */
export const VERSION: string = pkg.version;
