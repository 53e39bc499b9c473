// The Dockerfile as text: its stages, that it runs unprivileged with a /data
// volume, that the command and health check it bakes in are ones our CLI
// accepts, and that everything it copies from the build context exists and is
// not hidden by .dockerignore. container.test.ts builds and runs it with podman;
// this catches what a run cannot, e.g. a lost USER line, which the nonroot base
// image would hide.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../../src/config.ts";

const ROOT = join(import.meta.dir, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Enough of the Dockerfile grammar for ours: comments, `\` continuations, stages. */
function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: keyword!.toUpperCase(), args: args! };
    if (instruction.keyword === "FROM") {
      const words = args!.split(/\s+/).filter((w) => !w.startsWith("--platform="));
      stages.push({ image: words[0]!, name: words[1]?.toUpperCase() === "AS" ? words[2] : undefined, instructions: [] });
    } else if (stages.length === 0) globalArgs.push(instruction);
    else stages.at(-1)!.instructions.push(instruction);
  }
  return { globalArgs, stages };
}

/** `--flag=value` options, then the exec-form JSON array or the shell-form words. */
function splitOptions(args: string): { options: Record<string, string>; rest: string } {
  const options: Record<string, string> = {};
  let rest = args;
  for (let m; (m = /^--([\w-]+)=(\S+)\s+/.exec(rest)); rest = rest.slice(m[0].length)) options[m[1]!] = m[2]!;
  return { options, rest };
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found).toHaveLength(1);
  return found[0]!.args;
};

/** Docker's .dockerignore: the last matching line wins; a matched folder takes its contents along. */
function ignoredByDockerignore(path: string, lines: string[]): boolean {
  const parts = path.replace(/^\.\//, "").replace(/\/$/, "").split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const line of lines) {
    const negated = line.startsWith("!");
    const glob = new Bun.Glob(negated ? line.slice(1) : line);
    if (candidates.some((c) => glob.match(c))) ignored = !negated;
  }
  return ignored;
}

const dockerfile = parseDockerfile(read("Dockerfile"));
const dockerignore = read(".dockerignore")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const build = dockerfile.stages[0]!;
const runtime = dockerfile.stages.at(-1)!;

describe("Dockerfile", () => {
  test("builds in an official Bun image and ships from a different, small one", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build.image).toMatch(/^oven\/bun:/);
    expect(build.name).toBe("build");
    expect(runtime.image).not.toMatch(/bun/);
    expect(runtime.image).toMatch(/distroless|alpine|slim/);
    // The build stage compiles the way `bun run compile`/`release` do.
    expect(all(build, "RUN").some((r) => r.args.includes("bun scripts/compile.ts"))).toBe(true);
  });

  test("pins the Bun version CI and the release workflow use", () => {
    const pinned = dockerfile.globalArgs.find((a) => a.args.startsWith("BUN_VERSION="))?.args.split("=")[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(build.image).toBe("oven/bun:${BUN_VERSION}");
    expect(read(".ci/run")).toContain(`bun@${pinned}`);
    expect(read(".github/workflows/release.yml")).toContain(`BUN_VERSION: ${pinned}`);
  });

  test("runs as a non-root user with /data as a volume it owns", () => {
    const user = one(runtime, "USER");
    expect(user.split(":")[0]).not.toMatch(/^(root|0)$/);
    expect(one(runtime, "VOLUME")).toBe("/data");
    const dataCopy = all(runtime, "COPY").map((c) => splitOptions(c.args)).find((c) => c.rest.trim().endsWith(" /data"));
    expect(dataCopy?.options.chown).toBe(user);
  });

  test("exposes the port the default command listens on", () => {
    const command = parseArgs([...execForm(one(runtime, "ENTRYPOINT")).slice(1), ...execForm(one(runtime, "CMD"))], {});
    expect(command).toMatchObject({ kind: "serve", config: { registry: "sqlite", dataDir: "/data" } });
    expect(one(runtime, "EXPOSE")).toBe(String(command.kind === "serve" && command.config.port));
  });

  test("health-checks with the shipped binary itself, on that port", () => {
    const [entrypoint] = execForm(one(runtime, "ENTRYPOINT"));
    const { options, rest } = splitOptions(one(runtime, "HEALTHCHECK"));
    expect(rest.startsWith("CMD ")).toBe(true);
    const [binary, ...args] = execForm(rest.slice(4));
    expect(binary).toBe(entrypoint!);
    expect(parseArgs(args, {})).toEqual({ kind: "healthcheck", url: `http://127.0.0.1:${one(runtime, "EXPOSE")}/health` });
    // Our probe gives up after 4 s; Docker must wait longer than that.
    expect(Number.parseInt(options.timeout!)).toBeGreaterThan(4);
    // The binary it runs is the one the build stage compiled.
    const copies = all(runtime, "COPY").map((c) => splitOptions(c.args));
    expect(copies.some((c) => c.options.from === "build" && c.rest.split(/\s+/).at(-1) === entrypoint)).toBe(true);
  });

  test("copies only paths that exist and that .dockerignore lets through", () => {
    const names = dockerfile.stages.map((s) => s.name);
    let sources = 0;
    for (const [i, stage] of dockerfile.stages.entries()) {
      for (const copy of [...all(stage, "COPY"), ...all(stage, "ADD")]) {
        const { options, rest } = splitOptions(copy.args);
        const words = rest.trim().startsWith("[") ? execForm(rest) : rest.trim().split(/\s+/);
        if (options.from) {
          expect(names.slice(0, i)).toContain(options.from);
          continue;
        }
        for (const source of words.slice(0, -1)) {
          sources++;
          expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
          expect(ignoredByDockerignore(source, dockerignore), `${source} reaches the build`).toBe(false);
        }
      }
    }
    expect(sources).toBeGreaterThanOrEqual(4);
  });

  test(".dockerignore keeps dependencies, data and tests out of the build context", () => {
    for (const path of ["node_modules", "dist", "test", ".git", "gemmapod-data", "scripts/release.ts"]) {
      expect(ignoredByDockerignore(path, dockerignore), path).toBe(true);
    }
  });
});
