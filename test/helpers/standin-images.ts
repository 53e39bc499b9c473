// Stand-ins for the Dockerfile's two base images, built from this machine's own
// Debian files (no registry is reachable here), under the names the Dockerfile
// uses, so the Dockerfile itself stays the standard one users build:
// - oven/bun:<version>: a shell, coreutils, glibc, CA certificates, bun on PATH;
// - gcr.io/distroless/base-debian12:nonroot: glibc, CA certificates, user
//   nonroot (65532:65532) as the default, and no shell.
// Each is rebuilt only when its recipe (this file, the host files, bun) changes.
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { buildImage, imageLabel } from "./podman.ts";

const LABEL = "org.gemmapod.standin-recipe";
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface Recipe {
  name: string;
  /** Debian packages whose installed files (from dpkg) go in. */
  packages: string[];
  /** Extra files written into the root: path -> [content, mode]. */
  files: Record<string, [string, number]>;
  /** Host files copied to a path in the image. */
  copies: Record<string, string>;
  /** Symlinks: path -> target. */
  links: Record<string, string>;
  /** Empty directories: path -> owner uid (gid the same). */
  dirs: Record<string, number>;
  /** Containerfile lines after `FROM scratch` and `ADD rootfs.tar /`. */
  config: string[];
}

const passwd = (users: string[]) => [["root:x:0:0:root:/root:/sbin/nologin", ...users].join("\n") + "\n", 0o644] as [string, number];
const group = (groups: string[]) => [["root:x:0:", ...groups].join("\n") + "\n", 0o644] as [string, number];
const common = { "etc/nsswitch.conf": ["passwd: files\ngroup: files\nhosts: files dns\n", 0o644] as [string, number] };

export function bunImage(bunVersion: string): Recipe {
  return {
    name: `oven/bun:${bunVersion}`,
    // dash is /bin/sh; the rest are the libraries coreutils' programs load.
    packages: ["libc6", "dash", "coreutils", "libacl1", "libattr1", "libgmp10", "libpcre2-8-0", "libselinux1"],
    files: { ...common, "etc/passwd": passwd(["bun:x:1000:1000::/home/bun:/bin/sh"]), "etc/group": group(["bun:x:1000:"]) },
    copies: { "usr/local/bin/bun": process.execPath, [CA_BUNDLE.slice(1)]: CA_BUNDLE },
    links: { "usr/bin/sh": "dash" },
    dirs: { root: 0, "home/bun/app": 1000 },
    // Bun trusts its own CA list; `bun install` in the build reaches the npm
    // registry through this machine's TLS-inspecting egress, whose CA only the
    // machine's bundle has.
    config: [`ENV PATH=${PATH} NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`, "WORKDIR /home/bun/app", 'CMD ["/usr/local/bin/bun"]'],
  };
}

export const distrolessImage: Recipe = {
  name: "gcr.io/distroless/base-debian12:nonroot",
  packages: ["libc6"],
  files: {
    ...common,
    "etc/passwd": passwd(["nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin", "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin"]),
    "etc/group": group(["nogroup:x:65534:", "nonroot:x:65532:"]),
  },
  copies: { [CA_BUNDLE.slice(1)]: CA_BUNDLE },
  links: {},
  dirs: { root: 0, "home/nonroot": 65532 },
  config: [`ENV PATH=${PATH} SSL_CERT_FILE=${CA_BUNDLE}`, "USER 65532:65532", "WORKDIR /home/nonroot"],
};

/** A package's installed files (not directories), by their real paths (Debian 12 merged /lib into /usr/lib). */
function packageFiles(pkg: string): string[] {
  const listing = Bun.spawnSync(["dpkg", "-L", pkg], { stdout: "pipe", stderr: "pipe" });
  if (!listing.success) throw new Error(`dpkg -L ${pkg}: ${listing.stderr.toString().trim()}`);
  const files = new Set<string>();
  for (const path of listing.stdout.toString().split("\n")) {
    if (!path.startsWith("/") || /^\/usr\/share\/(doc|man|info|lintian)\//.test(path)) continue;
    // Directories (and the /bin -> usr/bin style links to them) come with their files.
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? true) continue;
    files.add(join(realpathSync(dirname(path)), basename(path)));
  }
  return [...files].sort();
}

/** What the image is made of; any change in it gives a different recipe hash. */
function recipeHash(recipe: Recipe, hostFiles: string[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(readFileSync(import.meta.path) + "\0" + JSON.stringify(recipe));
  for (const path of [...hostFiles, ...Object.values(recipe.copies)]) {
    const stat = lstatSync(realpathSync(path));
    hasher.update(`${path}\0${stat.size}\0${stat.mtimeMs}\0`);
  }
  return hasher.digest("hex").slice(0, 32);
}

/** Builds `recipe` unless an image of that name with the same recipe hash is already there. */
export async function ensureImage(recipe: Recipe): Promise<"cached" | "built"> {
  const hostFiles = recipe.packages.flatMap(packageFiles);
  const hash = recipeHash(recipe, hostFiles);
  if ((await imageLabel(recipe.name, LABEL)) === hash) return "cached";
  const context = mkdtempSync(join(tmpdir(), "gemmapod-standin-"));
  try {
    const root = join(context, "root");
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    for (const [link, target] of [["bin", "usr/bin"], ["sbin", "usr/sbin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"]]) symlinkSync(target!, join(root, link!));
    mkdirSync(join(root, "tmp"), { mode: 0o1777 });
    chmodSync(join(root, "tmp"), 0o1777);
    for (const [path, [content, mode]] of Object.entries(recipe.files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content, { mode });
    }
    for (const [path, source] of Object.entries(recipe.copies)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      copyFileSync(source, join(root, path));
    }
    for (const [path, target] of Object.entries(recipe.links)) symlinkSync(target, join(root, path));
    for (const [path, owner] of Object.entries(recipe.dirs)) {
      mkdirSync(join(root, path), { recursive: true });
      chownSync(join(root, path), owner, owner);
    }
    const list = join(context, "host-files");
    writeFileSync(list, hostFiles.join("\n") + "\n");
    const tar = (args: string[]) => {
      const run = Bun.spawnSync(["tar", ...args], { stderr: "pipe" });
      if (!run.success) throw new Error(`tar ${args.join(" ")}: ${run.stderr.toString().trim()}`);
    };
    const archive = join(context, "rootfs.tar");
    tar(["--create", "--file", archive, "--numeric-owner", "--owner=0", "--group=0", "--no-recursion", "-C", "/", "--files-from", list]);
    tar(["--append", "--file", archive, "--numeric-owner", "-C", root, "."]);
    writeFileSync(join(context, "Containerfile"), ["FROM scratch", "ADD rootfs.tar /", ...recipe.config, ""].join("\n"));
    await buildImage(recipe.name, ["--label", `${LABEL}=${hash}`, "-f", join(context, "Containerfile"), context]);
    return "built";
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
