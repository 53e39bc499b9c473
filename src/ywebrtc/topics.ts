// Names on the hub for y-webrtc topics. The fixed prefixes keep them apart from
// every other protocol's names, whatever a client calls its room.

/** Where a topic's publishes are delivered; its subscribers' sockets subscribe here. */
export const deliveryTopic = (topic: string): string => `yw:${topic}`;
/** Where nodes state how many subscribers of a topic they have. */
export const countTopic = (topic: string): string => `ywc:${topic}`;
/** The nodes with subscribers of a topic. */
export const countGroup = (topic: string): string => `ywn:${topic}`;
/** The topic of a `countGroup` name, or undefined for another group. */
export const topicOfCountGroup = (group: string): string | undefined => (group.startsWith("ywn:") ? group.slice(4) : undefined);
