// What a visitor sends must mean the same to the origin, whatever its JSON parser:
// the origin tells sessions apart by sessionId. Reusing a visitor's text is only
// allowed when it cannot be read two ways.
import { describe, expect, spyOn, test } from "bun:test";
import { parseClientMessage } from "../../src/signal/protocol.ts";
import { textForOrigin, textForVisitor, type RelayedMessage } from "../../src/signal/relay-text.ts";
import { seeded } from "../fuzz/random.ts";

/** A JSON reader that keeps the FIRST of duplicate keys (JSON.parse keeps the last). */
function parseFirstWins(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (" \t\r\n".includes(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") return i++, out;
      for (;;) {
        ws();
        const key = value() as string;
        ws();
        i++; // :
        const v = value();
        if (!(key in out)) out[key] = v;
        ws();
        if (text[i++] === "}") return out;
      }
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === "]") return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (text[i++] === "]") return out;
      }
    }
    // Scalars: let JSON.parse read exactly one token.
    const m = /^(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i))!;
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  return value();
}

function expectedOf(m: RelayedMessage): object {
  const third = m.t === "candidate" ? { candidate: m.candidate } : m.t === "error" ? { message: m.message } : { sdp: m.sdp };
  return { t: m.t, sessionId: m.sessionId, ...third };
}

/** A visitor's frame as the origin gets it: only frames the protocol accepts. */
function relay(frame: string): { m: RelayedMessage; out: string } | undefined {
  const parsed = parseClientMessage(frame);
  if (!parsed.ok || parsed.message.t === "register") return undefined;
  return { m: parsed.message, out: textForOrigin(parsed.message, frame) };
}

const SDP = "v=0\r\na=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\r\n";
const CAND = { candidate: "candidate:1 1 udp 1686052607 203.0.113.10 40000 typ srflx", sdpMid: "0", sdpMLineIndex: 0 };
const canonical = [
  JSON.stringify({ t: "offer", podId: "pod-1", sessionId: "s1", sdp: SDP }),
  JSON.stringify({ t: "answer", sessionId: "s1", sdp: SDP }),
  JSON.stringify({ t: "candidate", sessionId: "s1", candidate: CAND }),
  JSON.stringify({ t: "candidate", podId: "pod-1", sessionId: "s1", candidate: CAND }),
  JSON.stringify({ t: "error", sessionId: "s1", message: "ice failed" }),
];

describe("text for the origin", () => {
  test("browser-shaped frames: {t, sessionId, …} without the podId", () => {
    const [offer, answer, candidate, podCandidate, error] = canonical.map((f) => relay(f)!.out);
    expect(offer).toBe(JSON.stringify({ t: "offer", sessionId: "s1", sdp: SDP }));
    expect(answer).toBe(canonical[1]!);
    expect(candidate).toBe(canonical[2]!);
    expect(podCandidate).toBe(canonical[2]!);
    expect(error).toBe(canonical[4]!);
  });

  test("an offer as browsers write it is not serialised again", () => {
    const offer = parseClientMessage(canonical[0]!) as { ok: true; message: RelayedMessage };
    const stringify = spyOn(JSON, "stringify");
    try {
      textForOrigin(offer.message, canonical[0]!);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  test.each([
    ["duplicate sessionId", `{"t":"candidate","sessionId":"victim","sessionId":"s1","candidate":${JSON.stringify(CAND)}}`],
    ["duplicate after podId", `{"t":"candidate","podId":"p","sessionId":"victim","candidate":${JSON.stringify(CAND)},"sessionId":"s1"}`],
    ["escaped duplicate", `{"t":"answer","\\u0073essionId":"victim","sessionId":"s1","sdp":"x"}`],
    ["spaced duplicate", `{"t":"answer","sessionId" :"victim","sessionId":"s1","sdp":"x"}`],
    ["escaped t", `{"\\u0074":"error","t":"error","sessionId":"s1","message":"m"}`],
    ["second podId", `{"t":"offer","podId":"p","sessionId":"s1","sdp":"x","podId":"q"}`],
    ["podId later", `{"t":"candidate","sessionId":"s1","podId":"p","candidate":${JSON.stringify(CAND)}}`],
    ["escaped podId value", `{"t":"candidate","podId":"p\\"d","sessionId":"s1","candidate":${JSON.stringify(CAND)}}`],
    ["extra member", `{"t":"error","sessionId":"s1","message":"m","x":1}`],
    ["nested sessionId", `{"t":"candidate","sessionId":"s1","candidate":{"candidate":"c","sessionId":"victim"}}`],
  ])("%s: re-serialised, same for every parser", (_, frame) => {
    const { m, out } = relay(frame)!;
    expect(out).toBe(JSON.stringify(expectedOf(m)));
    expect(parseFirstWins(out)).toEqual(JSON.parse(out));
  });

  test("20,000 mutated frames: every parser reads exactly what the broker validated", () => {
    const rng = seeded(4242);
    const keys = ['"t"', '"podId"', '"sessionId"', '"sdp"', '"candidate"', '"message"'];
    const insertions = [',"sessionId":"victim"', ',"podId":"zz"', ',"\\u0073essionId":"victim"', ' ', ',"x":{"sessionId":"v"}', ',"t":"offer"'];
    let reused = 0;
    let checked = 0;
    for (let n = 0; n < 20_000; n++) {
      let frame = rng.pick(canonical);
      for (let k = rng.int(3); k >= 0; k--) {
        const r = rng.int(3);
        if (r === 0) {
          // Insert a member (or space) after some comma, or last.
          const places = [...frame.matchAll(/,/g)].map((x) => x.index!);
          const at = rng.next() < 0.3 ? frame.length - 1 : places.length ? rng.pick(places) : 1;
          frame = frame.slice(0, at) + rng.pick(insertions) + frame.slice(at);
        } else if (r === 1) {
          // Respell a key with an escape or a space before the colon.
          const key = rng.pick(keys);
          frame = frame.replace(key, rng.next() < 0.5 ? key.replace(/^"(.)/, (_, c) => `"\\u00${c.charCodeAt(0).toString(16)}`) : `${key} `);
        } else {
          // Put a member first.
          const key = rng.pick(keys);
          const obj = JSON.parse(frame);
          if (key.slice(1, -1) in obj) {
            const { [key.slice(1, -1)]: v, ...rest } = obj;
            frame = JSON.stringify({ [key.slice(1, -1)]: v, ...rest });
          }
        }
      }
      const parsed = parseClientMessage(frame);
      if (!parsed.ok || parsed.message.t === "register") continue;
      checked++;
      const stringify = spyOn(JSON, "stringify");
      const out = textForOrigin(parsed.message, frame);
      if (stringify.mock.calls.length === 0) reused++;
      stringify.mockRestore();
      const r = { m: parsed.message, out };
      expect(JSON.parse(r.out)).toEqual(expectedOf(r.m));
      expect(parseFirstWins(r.out)).toEqual(expectedOf(r.m));
    }
    // The barrage reached both paths.
    expect(checked).toBeGreaterThan(10_000);
    expect(reused).toBeGreaterThan(500);
    expect(checked - reused).toBeGreaterThan(1000);
  });
});

describe("text for the visitor", () => {
  const forVisitor = (frame: string) => {
    const parsed = parseClientMessage(frame) as { ok: true; message: RelayedMessage };
    return textForVisitor(parsed.message, frame);
  };

  test("an origin's frame with exactly the three members is passed on as it came", () => {
    for (const frame of [canonical[1]!, canonical[2]!, canonical[4]!, `{ "sdp" : "x", "sessionId":"s1", "t":"answer" }`]) {
      expect(forVisitor(frame)).toBe(frame);
    }
  });

  test("extra members are dropped", () => {
    expect(forVisitor(`{"t":"answer","sessionId":"s1","sdp":"x","secret":1}`)).toBe(`{"t":"answer","sessionId":"s1","sdp":"x"}`);
    expect(forVisitor(`{"t":"candidate","podId":"p","sessionId":"s1","candidate":{"candidate":"c"}}`)).toBe(`{"t":"candidate","sessionId":"s1","candidate":{"candidate":"c"}}`);
  });
});
