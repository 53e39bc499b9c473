/** A websocket text frame as the JSON object every protocol here expects, or the reason it is not one. Never throws. */
export function jsonObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "invalid json";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "message must be a JSON object";
  return value as Record<string, unknown>;
}
