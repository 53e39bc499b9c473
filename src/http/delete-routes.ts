import { Hono, type Context } from "hono";
import { isManaged, type ManagedRegistry, type Registry } from "../registry/types.ts";
import { bearerMatches } from "./admin-token.ts";
import { HttpError } from "./errors.ts";
import { SignedRequestVerifier } from "../identity/signed-request.ts";

export interface DeleteRoutesOptions {
  registry: Registry;
  adminToken?: string;
  /** Called for every removed pod (e.g. to drop it from the serving cache). */
  onDeleted: (id: string) => void;
}

const ID = ":id{[A-Za-z0-9_-]{12}}";
const MAX_PAGE = 1000;

/** Taking pods down: by their owner's signature (one or all of theirs), or by an admin. */
export function deleteRoutes(options: DeleteRoutesOptions): Hono {
  const verifier = new SignedRequestVerifier();
  const app = new Hono();

  const managed = (): ManagedRegistry => {
    if (!isManaged(options.registry)) throw new HttpError(501, "this registry cannot delete or list pods");
    return options.registry;
  };

  /** Admin, or the owner `expectedOwner` by signature over this request. */
  async function authorize(c: Context, expectedOwner: () => Promise<string | null>): Promise<void> {
    const header = c.req.header("authorization");
    if (bearerMatches(header, options.adminToken)) return;
    const proof = await verifier.verify(header, "DELETE", new URL(c.req.url).pathname);
    if ("error" in proof) throw new HttpError(401, proof.error, { "WWW-Authenticate": "GemmaPod-Ed25519" });
    if (proof.owner !== (await expectedOwner())) throw new HttpError(403, "only the pod's owner key may delete it");
  }

  app.delete(`/${ID}`, async (c) => {
    const registry = managed();
    const id = c.req.param("id");
    const record = await registry.getRecord(id);
    if (!record) throw (await registry.isDeleted(id)) ? new HttpError(410, "pod was deleted") : new HttpError(404, "pod not found");
    await authorize(c, async () => record.ownerPubkey);
    await registry.deletePod(id);
    options.onDeleted(id);
    return c.json({ deleted: [id] });
  });

  app.delete("/owners/:owner{[0-9a-fA-F]{64}}/pods", async (c) => {
    const registry = managed();
    const owner = c.req.param("owner").toLowerCase();
    await authorize(c, async () => owner);
    const deleted: string[] = [];
    for (;;) {
      // Deleting shrinks the set, so each round starts from the beginning again.
      const { pods } = await registry.listPods({ owner, limit: MAX_PAGE });
      if (pods.length === 0) break;
      for (const pod of pods) {
        await registry.deletePod(pod.id);
        options.onDeleted(pod.id);
        deleted.push(pod.id);
      }
    }
    return c.json({ deleted });
  });

  app.get("/admin/pods", async (c) => {
    if (options.adminToken === undefined) throw new HttpError(404, "the admin API is off (start with --admin-token)");
    if (!bearerMatches(c.req.header("authorization"), options.adminToken)) throw new HttpError(401, "admin token required", { "WWW-Authenticate": "Bearer" });
    const registry = managed();
    const owner = c.req.query("owner");
    if (owner !== undefined && !/^[0-9a-fA-F]{64}$/.test(owner)) throw new HttpError(400, "owner must be 64 hex characters");
    const limitText = c.req.query("limit") ?? "100";
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_PAGE) throw new HttpError(400, `limit must be an integer from 1 to ${MAX_PAGE}`);
    const cursor = c.req.query("cursor");
    if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new HttpError(400, "cursor is not valid");
    return c.json(await registry.listPods({ owner: owner?.toLowerCase(), limit: Number(limitText), cursor }));
  });

  return app;
}
