// Names on the hub for rooms and the peers in them. Room names and keys are
// validated ([A-Za-z0-9._-], hex), so ":" can separate the parts.

/** Presence news of a room; every peer in it subscribes. */
export const roomTopic = (room: string): string => `r:${room}`;
/** The members of a room, for `Hub.enter`. */
export const roomGroup = (room: string): string => `room:${room}`;
/** The room of a `roomGroup` name, or undefined for another group. */
export const roomOfGroup = (group: string): string | undefined => (group.startsWith("room:") ? group.slice(5) : undefined);
/** One key in one room: its claim, and the topic frames for it are delivered on. */
export const peerTopic = (room: string, key: string): string => `k:${room}:${key}`;
/** The rooms a key is in, for the rooms-per-key bound. */
export const roomsOfKey = (key: string): string => `rooms:${key}`;
