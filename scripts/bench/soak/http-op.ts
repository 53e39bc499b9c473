// One HTTP call of an operation: a status other than `expected` fails it, silence past the
// allowance means it was never answered.
import { ANSWER_WAIT_MS, Unanswered } from "./op-log.ts";

export async function call(url: string, init: RequestInit = {}, expected = 200): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(ANSWER_WAIT_MS) });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") throw new Unanswered(`${url}: no answer in ${ANSWER_WAIT_MS} ms`);
    throw new Error(`${new URL(url).pathname}: ${(error as Error).message}`);
  }
  if (res.status !== expected) throw new Error(`${new URL(url).pathname}: ${res.status} ${(await res.text().catch(() => "")).slice(0, 120)}`);
  return res;
}

export const postJson = (url: string, body: unknown) => call(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
