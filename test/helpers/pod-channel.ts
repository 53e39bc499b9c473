// A real pod page, served by one node and opened in Chromium, negotiates a WebRTC data
// channel with an origin on another node (or the same one). The origin is a second page
// doing what GemmaPod Host does: register, answer offers, trickle candidates.
import { expect } from "bun:test";
import type { Browser } from "playwright-core";
import { buildPod } from "./pods.ts";
import type { TestServer } from "./server.ts";

/** Runs in the origin page: a minimal Host that answers every offer. */
function runOrigin({ wsUrl, podId }: { wsUrl: string; podId: string }) {
  const w = window as any;
  w.log = [] as string[];
  w.channelOpened = new Promise<string>((resolveChannel) => {
    const ws = new WebSocket(wsUrl);
    const peers = new Map<string, RTCPeerConnection>();
    ws.onopen = () => ws.send(JSON.stringify({ t: "register", podId }));
    ws.onmessage = async (e) => {
      const m = JSON.parse(e.data);
      w.log.push(m.t);
      if (m.t === "offer") {
        const pc = new RTCPeerConnection({ iceServers: [] });
        peers.set(m.sessionId, pc);
        pc.onicecandidate = (ev) => ev.candidate && ws.send(JSON.stringify({ t: "candidate", sessionId: m.sessionId, candidate: ev.candidate.toJSON() }));
        pc.ondatachannel = (ev) => { ev.channel.onopen = () => resolveChannel(ev.channel.label); };
        await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        ws.send(JSON.stringify({ t: "answer", sessionId: m.sessionId, sdp: pc.localDescription!.sdp }));
      } else if (m.t === "candidate") {
        await peers.get(m.sessionId)?.addIceCandidate(m.candidate);
      }
    };
  });
}

/**
 * Uploads a real pod to `podNode`, registers its origin (a page) on `originNode`, opens the pod
 * in Chromium and waits for the data channel; then checks what both sides saw.
 */
export async function openPodChannel(browser: Browser, podNode: TestServer, originNode: TestServer): Promise<void> {
  const podId = `browser-pod-${Date.now()}`;
  const pod = buildPod({ podId, signalUrl: podNode.url + "/signal" });
  const upload = await fetch(`${podNode.url}/pods`, { method: "POST", body: pod.bytes, headers: { "Content-Type": "text/html" } });
  const { url } = await upload.json();

  const origin = await browser.newPage();
  await origin.goto(`${originNode.url}/health`);
  await origin.evaluate(runOrigin, { wsUrl: originNode.wsUrl, podId });
  for (let i = 0; i < 100 && !originNode.server.origins().includes(podId); i++) await Bun.sleep(50);
  expect(originNode.server.origins()).toContain(podId);

  const visitor = await browser.newPage();
  const problems: string[] = [];
  visitor.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  visitor.on("pageerror", (error) => problems.push(String(error)));
  await visitor.goto(url);

  const label = await origin.evaluate(() => Promise.race([(window as any).channelOpened, new Promise((_, reject) => setTimeout(() => reject(new Error("no data channel within 20 s")), 20_000))]));
  expect(label).toBe("dartc.v0");
  const seen: string[] = await origin.evaluate(() => (window as any).log);
  expect(seen.slice(0, 2)).toEqual(["challenge", "registered"]);
  expect(seen).toContain("offer");
  expect(seen).not.toContain("error");
  // Once the channel is open the shim closes its signaling socket: the session is freed.
  for (let i = 0; i < 100 && podNode.server.sessions() > 0; i++) await Bun.sleep(50);
  expect(podNode.server.sessions()).toBe(0);
  // The shim (0.5.0) also asks gemmapod.com for its browser-model list; the pod CSP the
  // reference ships (and we keep by default) blocks that, and the pod carries on without it.
  const unexpected = problems.filter((p) => !p.includes("https://gemmapod.com/api/browser-models"));
  expect(unexpected).toEqual([]);
  await origin.close();
  await visitor.close();
}

