/** `GET /console/api/pods/:id/online`: whether a stored pod's origin is connected. */
export interface PodOrigins {
  id: string;
  /** Whether any pod id this pod answers to has a live origin. */
  online: boolean;
  /** The pod's registry id and the signaling pod ids its manifest names, each with its origin's state. */
  podIds: { podId: string; online: boolean }[];
}
