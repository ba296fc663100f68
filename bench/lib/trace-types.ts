// Timestamps of one job's path through the gateway and provider, taken in the traced processes
// (bench/lib/traced-*.ts). All are milliseconds of the host's monotonic clock (process.hrtime,
// CLOCK_MONOTONIC), which every process on one machine shares, so stamps across processes compare.

export function stamp(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface JobTrace {
  jobId: string;
  /** gateway: the HTTP request arrived / its response finished */
  httpIn?: number;
  httpOut?: number;
  /** gateway: the response bytes went to the kernel (Node corks and writes a tick later) */
  httpFlushed?: number;
  /** gateway: engine.submit called / returned (escrow committed) */
  submitCall?: number;
  submitDone?: number;
  /** gateway: every write of the job to the group writer, and the commit that carried it */
  writes: { status: string; enqueued: number; commitStart?: number; commitEnd?: number; batch?: number }[];
  /** gateway: lease frame handed to the socket */
  leaseSent?: number;
  firstChunkIn?: number;
  chunks: number;
  /** gateway: result frame parsed and handed to the engine / settled and acked */
  resultIn?: number;
  resultDone?: number;
  ackSent?: number;
  /** gateway: the job's final state is durable and announced to waiters */
  settled?: number;
  /** provider: the runtime's execute() started / returned */
  execStart?: number;
  execEnd?: number;
  /** client: request sent / response parsed */
  clientSend?: number;
  clientRecv?: number;
}
