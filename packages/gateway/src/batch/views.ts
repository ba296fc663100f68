// OpenAI's shapes of a batch and a file (times in epoch seconds). Output and error files are
// named only once they exist and hold at least one line, as OpenAI does.
import type { BatchFileRecord, BatchRecord } from "@tessera/store";

const sec = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
const FINAL = new Set(["completed", "expired", "cancelled", "failed"]);

export function batchView(b: BatchRecord) {
  const final = FINAL.has(b.status);
  return {
    id: b.id,
    object: "batch" as const,
    endpoint: b.endpoint,
    errors: b.errors
      ? { object: "list", data: b.errors.map((e) => ({ code: e.code, message: e.message, param: null, line: e.line })) }
      : null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: final && b.completed > 0 ? b.outputFileId : null,
    error_file_id: final && b.failed > 0 ? b.errorFileId : null,
    created_at: sec(b.createdAt),
    in_progress_at: sec(b.inProgressAt),
    expires_at: sec(b.expiresAt),
    finalizing_at: sec(b.finalizingAt),
    completed_at: sec(b.completedAt),
    failed_at: sec(b.failedAt),
    expired_at: sec(b.expiredAt),
    cancelling_at: sec(b.cancellingAt),
    cancelled_at: sec(b.cancelledAt),
    request_counts: { total: b.total, completed: b.completed, failed: b.failed },
    metadata: b.metadata,
    /** nano-credits charged so far for completed lines (Tessera extension) */
    tessera: { spent: b.spent.toString() },
  };
}

export function fileView(f: BatchFileRecord) {
  return {
    id: f.id,
    object: "file" as const,
    bytes: f.bytes,
    created_at: sec(f.createdAt),
    expires_at: sec(f.expiresAt ?? null),
    filename: f.filename,
    purpose: f.purpose,
    status: "processed" as const,
    status_details: null,
  };
}
