// The seam between the provider daemon and what actually runs a job. Each runtime executes
// a validated spec and reports metering; `verify` beside `execute` comes with verification.
import type { JobOutput, JobSpec, Units, VerdictReport } from "@tessera/protocol";

export interface ExecuteContext {
  jobId: string;
  attempt: number;
  /** aborted when the gateway cancels the job or the lease is lost */
  signal: AbortSignal;
  /**
   * streamed partial output, in order; the concatenated texts equal the final text. An llm job's
   * first chunk says how many tokens its prompt was (what a stopped stream bills for it).
   */
  onChunk?: (chunk: { text: string; tokens?: number[]; promptTokens?: number }) => void;
}

export interface ExecuteResult {
  output: JobOutput;
  units: Units;
}

/** A result someone else claims to have produced for a spec: what a verifier re-checks. */
export interface ClaimedResult {
  output: JobOutput;
  units: Units;
}

export interface VerifyContext {
  jobId: string;
  /** the node whose signed result is checked (the audit names it: its signature is checked) */
  providerId?: string;
  signal: AbortSignal;
}

export interface Runtime<S extends JobSpec = JobSpec> {
  readonly name: S["runtime"];
  execute(spec: S, ctx: ExecuteContext): Promise<ExecuteResult>;
  /** Re-checks a claimed result (see packages/runtimes/src/verify); absent on runtimes that cannot. */
  verify?(spec: S, claim: ClaimedResult, ctx: VerifyContext): Promise<VerdictReport>;
  close(): Promise<void>;
}

/** A job that can never succeed (bad input, trap, over a cap): retrying elsewhere is pointless. */
export class JobFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobFault";
  }
}

/**
 * A WASM job stopped at its own fault after burning `fuel`, the same on every node: it ran out
 * (`outOfFuel`, and `fuel` is its limit), or it trapped or broke the ABI. A fault for whoever runs
 * the module directly; the WASM runtime makes a billed result of it (WasmOutput `outOfFuel` or `trap`).
 */
export class MeteredStop extends JobFault {
  constructor(
    message: string,
    readonly fuel: number,
    readonly outOfFuel: boolean,
  ) {
    super(message);
  }
}
