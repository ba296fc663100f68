// Reputation from a provider's record, as the mean of a Beta(1,1) prior updated by outcomes:
// a new provider starts at 0.5 and moves with evidence, never reaching exactly 0 or 1.
export interface ProviderRecord {
  completed: number;
  failed: number;
}

export function reputationOf(r: ProviderRecord): number {
  return (1 + r.completed) / (2 + r.completed + r.failed);
}
