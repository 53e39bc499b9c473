/** The signed fields of a pod, as GemmaPod's core encodes them (snake_case on the wire). */
export interface PodManifest {
  v: number;
  id: string;
  name: string;
  persona: string;
  system_prompt: string;
  model?: string;
  owner_pubkey: string;
  transport: PodTransport;
  tools: PodTool[];
}

export interface PodTransport {
  preferred: string[];
  /** Named `webrtc` by older cores, `dartc` by newer ones. */
  dartc?: { signal_url: string; pod_id: string } | null;
  webrtc?: { signal_url: string; pod_id: string } | null;
  direct?: { base_url: string } | null;
  fallback?: { tier: string } | null;
}

export interface PodTool {
  name: string;
  description: string;
}

/** A manifest whose signature has been checked, with the sizes the registry records. */
export interface VerifiedManifest {
  manifest: PodManifest;
  /** Raw 32-byte owner key, decoded from `owner_pubkey`. */
  ownerKey: Uint8Array;
  /** Size of the whole signed CBOR envelope, as `manifestSize` in the record. */
  manifestSize: number;
}
