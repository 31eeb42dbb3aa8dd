/** True for S3's 412 Precondition Failed: a conditional write found the key taken, or a conditional read the object replaced. */
export function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === "PreconditionFailed" || e?.$metadata?.httpStatusCode === 412;
}

/** True for S3's 409 ConditionalRequestConflict: a concurrent conditional write; S3 says retry. */
export function isConditionalConflict(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === "ConditionalRequestConflict" || e?.$metadata?.httpStatusCode === 409;
}
