import { nanoid } from "nanoid";

export const POD_ID_LENGTH = 12;
/** nanoid's URL-safe alphabet: 12 characters carry ~71 bits. */
export const POD_ID_PATTERN = /^[A-Za-z0-9_-]{12}$/;

export function newPodId(): string {
  return nanoid(POD_ID_LENGTH);
}
