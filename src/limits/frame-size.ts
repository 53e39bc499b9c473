/** Whether a text frame is over `limitBytes` of UTF-8. `length` counts UTF-16 units (<= bytes): bytes are measured only when it could matter. */
export function textOverLimit(frame: string, limitBytes: number): boolean {
  return frame.length > limitBytes || (frame.length * 3 > limitBytes && Buffer.byteLength(frame) > limitBytes);
}
