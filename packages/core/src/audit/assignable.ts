// Whether an audit waits only because of the provider's operator label. The label is the node's
// own claim (`--operator`), and audits never go to a verifier of the provider's operator, so a
// provider claiming the operator of every verifier that serves its model was never audited: its
// audits waited in the store for good while it was paid for every job. Pure.

/**
 * True when verifiers online serve the job (other than the provider itself) and every one of them
 * is of the provider's operator: a wait of the provider's own making, not an outage.
 */
export function blockedByOwnOperator(providerOperator: string, servingOperators: readonly string[]): boolean {
  return servingOperators.length > 0 && servingOperators.every((o) => o === providerOperator);
}
