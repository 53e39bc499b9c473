/** A pod or manifest that fails validation. Its message is safe to show to the uploader. */
export class ManifestError extends Error {}
