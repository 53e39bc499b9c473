// Issue 27: the README's cluster compose file, checked by a compose-aware
// validator (Debian's docker-compose: `config` validates against the compose
// schema without an engine), then its wiring: every node's command is flags our
// CLI accepts, pointing at services the file defines, with matching credentials,
// and nginx's upstreams are those nodes on the port they listen on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../../src/config.ts";
import { serviceMissing } from "../helpers/ci.ts";

const ROOT = join(import.meta.dir, "../..");
const composeInstalled = !!Bun.which("docker-compose") || serviceMissing("docker-compose is missing: install the Debian package docker-compose (.ci/run does)");

/** The fenced block of `lang` that follows `after` in the README. */
function readmeBlock(after: string, lang: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const from = readme.indexOf(after);
  expect(from).toBeGreaterThan(0);
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  return match![1]!;
}

const dir = mkdtempSync(join(tmpdir(), "gemmapod-compose-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(yaml: string): { code: number; stdout: string; stderr: string } {
  writeFileSync(join(dir, "docker-compose.yml"), yaml);
  const run = Bun.spawnSync(["docker-compose", "--file", join(dir, "docker-compose.yml"), "--project-directory", dir, "config"], { stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

type Service = { image?: string; build?: { context: string }; command?: string[]; environment?: Record<string, string>; ports?: { published: number; target: number }[]; volumes?: string[]; depends_on?: Record<string, unknown> };

describe.skipIf(!composeInstalled)("the README's cluster compose file", () => {
  const yaml = readmeBlock("A standard compose file", "yaml");
  writeFileSync(join(dir, "nginx.conf"), readmeBlock("A standard compose file", "nginx"));

  test("the validator refuses a broken file (so its yes means something)", () => {
    const broken = config(yaml.replace('ports: ["8080:80"]', 'ports: { web: "8080:80" }'));
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain("ports");
  });

  test("validates, and its services, ports, volumes and environment fit together", () => {
    const checked = config(yaml);
    expect(checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    const file = Bun.YAML.parse(checked.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const { services } = file;
    const nodes = ["node1", "node2", "node3"];
    expect(Object.keys(services).sort()).toEqual(["lb", "minio", "node1", "node2", "node3", "postgres", "redis"]);
    expect(Object.keys(file.volumes).sort()).toEqual(["pg", "s3"]);
    expect(services.postgres!.volumes).toEqual(["pg:/var/lib/postgresql/data:rw"]);
    expect(services.minio!.volumes).toEqual(["s3:/data:rw"]);
    expect(services.lb!.ports).toEqual([expect.objectContaining({ published: 8080, target: 80 })]);
    expect(Object.keys(services.lb!.depends_on!).sort()).toEqual(nodes);

    const pg = services.postgres!.environment!;
    const minio = services.minio!.environment!;
    for (const name of nodes) {
      const node = services[name]!;
      expect(node.build?.context).toBe(dir); // `build: .`: the checkout, where the Dockerfile is
      const command = parseArgs(node.command!, node.environment!);
      if (command.kind !== "serve") throw new Error(`${name}: not a server command`);
      const { config: c } = command;
      expect(c).toMatchObject({ registry: "postgres", trustProxy: true, publicUrl: "https://pods.example.com" });
      const hostOf = (url: string) => new URL(url).hostname;
      expect([hostOf(c.cluster!), hostOf(c.databaseUrl!), hostOf(c.s3Endpoint!)]).toEqual(["redis", "postgres", "minio"]);
      expect(Object.keys(node.depends_on!).sort()).toEqual(["minio", "postgres", "redis"]);
      const db = new URL(c.databaseUrl!);
      expect([db.username, db.password, db.pathname.slice(1)]).toEqual([pg.POSTGRES_USER!, pg.POSTGRES_PASSWORD!, pg.POSTGRES_DB!]);
      expect([node.environment!.AWS_ACCESS_KEY_ID, node.environment!.AWS_SECRET_ACCESS_KEY]).toEqual([minio.MINIO_ROOT_USER!, minio.MINIO_ROOT_PASSWORD!]);
      expect(services.minio!.command).toEqual(["server", "/data"]);
      expect(new URL(c.s3Endpoint!).port).toBe("9000"); // MinIO's API port
      // nginx sends to each node on the port its command leaves it on.
      expect(readmeBlock("A standard compose file", "nginx")).toContain(`server ${name}:${c.port};`);
    }
  });
});
