// What the gateway can tell at submit about a job that no provider could ever run: such a job is
// refused with a 4xx before anything is escrowed, instead of being leased, failing on a provider
// and coming back as a server error.
import { ContextLengthExceeded, type JobSpec, type ModelInfo, NotFound } from "@tessera/protocol";

/**
 * An LLM job whose output cap fills the model's whole context leaves no room for even one prompt
 * token. `param` names the field as the client sent it (max_tokens, limits.maxOutputTokens).
 */
export function outputCapError(
  spec: JobSpec,
  models: Map<string, { info: ModelInfo }>,
  param: string,
): ContextLengthExceeded | undefined {
  if (spec.runtime !== "llm") return undefined;
  const info = models.get(spec.model)?.info;
  const cap = spec.limits.maxOutputTokens;
  if (!info || cap < info.contextSize) return undefined;
  return new ContextLengthExceeded(
    `${param} ${cap} leaves no room for the prompt: the model's context holds ${info.contextSize} tokens.`,
    param,
  );
}

/** A WASM job names its module and its input by blob id: both must be on the gateway. */
export async function missingBlobError(
  spec: JobSpec,
  hasBlob: (id: string) => Promise<boolean>,
): Promise<NotFound | undefined> {
  if (spec.runtime !== "wasm") return undefined;
  if (!(await hasBlob(spec.module))) return new NotFound("blob", spec.module, "module");
  if ("blob" in spec.input && !(await hasBlob(spec.input.blob)))
    return new NotFound("blob", spec.input.blob, "input.blob");
  return undefined;
}
