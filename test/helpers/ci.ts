// One rule for "is this CI?", used by every service gate: a test that needs a
// service which is not installed skips with one line naming the package, and under
// CI fails instead, so a skip never passes for a pass where it matters.

/** CI is set unless it is absent, empty or "false": CI=true, CI=1, CI=yes all count. */
export function underCI(env: Record<string, string | undefined> = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return !!value && value !== "false";
}

/** For a missing service: prints `skip: <line>` and returns false; under CI, throws. */
export function serviceMissing(line: string): false {
  if (underCI()) throw new Error(`${line} (CI is set: failing instead of skipping)`);
  console.warn(`skip: ${line}`);
  return false;
}
