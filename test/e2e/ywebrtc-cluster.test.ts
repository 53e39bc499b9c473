// Yjs in Chromium with one page on each of two cluster nodes (Redis, with pods
// in Postgres and S3 as a cluster keeps them): the room spans the nodes and the
// pages edit one Y.Text over WebRTC negotiated across them.
import { describe, test } from "bun:test";
import { startNodes } from "../helpers/cluster.ts";
import { redisOrSkip, startRedis } from "../helpers/redis.ts";
import { available, newSpot, storageServices } from "../helpers/storage.ts";
import { yUrl } from "../helpers/ywebrtc.ts";
import { chromiumOrSkip, closeAll, editTogether, useEditors } from "../helpers/ywebrtc-browser.ts";

const hasChromium = chromiumOrSkip();
const services = await storageServices();
useEditors();

describe.skipIf(!hasChromium || !redisOrSkip() || !available("postgres+s3", services))("Yjs (y-webrtc) in Chromium, one page on each of two cluster nodes", () => {
  test("two pages on two nodes edit one Y.Text over WebRTC", async () => {
    const redis = await startRedis();
    const spot = await newSpot("postgres+s3", services);
    const nodes = await startNodes(redis.url, 2, {}, () => spot.open());
    try {
      await closeAll(await editTogether(yUrl(nodes[0]!.url), yUrl(nodes[1]!.url), "cluster-doc"));
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await redis.stop();
    }
  }, 60_000);
});
