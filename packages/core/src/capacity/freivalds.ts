// Proof of capacity, the checking side: Freivalds' algorithm verifies a claimed product C = A·B of
// n×n matrices in O(n²) per round (A·(B·x) against C·x for a random ±1 vector x) instead of the
// O(n³) of recomputing it; a wrong C survives a round with probability at most 1/2. Also how a
// proof becomes measured throughput and whether it shows the capacity the node claimed. Pure.
import { matVec } from "./matrices.js";

/**
 * True when C = A·B up to float rounding, checked over `rounds` random ±1 vectors drawn from
 * `random`. The tolerance scales with n (summation order differs between honest machines).
 */
export function freivaldsCheck(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  n: number,
  random: () => number,
  rounds = 8,
): boolean {
  if (a.length !== n * n || b.length !== n * n || c.length !== n * n) return false;
  const tol = 1e-9 * n * n;
  for (let r = 0; r < rounds; r++) {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = random() < 0.5 ? -1 : 1;
    const abx = matVec(a, matVec(b, x, n), n);
    const cx = matVec(c, x, n);
    for (let i = 0; i < n; i++) {
      const d = Math.abs((abx[i] as number) - (cx[i] as number));
      if (!(d <= tol)) return false; // NaN fails too
    }
  }
  return true;
}

/** Standard units (MFLOP) of an n×n by n×n product: 2n³ floating-point operations. */
export function productUnits(n: number): number {
  return (2 * n * n * n) / 1e6;
}

/** Measured throughput in standard units per second from a proof that took `elapsedMs` (round trip). */
export function provenThroughput(n: number, elapsedMs: number): number {
  return productUnits(n) / (Math.max(1, elapsedMs) / 1000);
}

/** How long an honest node claiming `claimed` units/s may take, with room for load and the network. */
export function capacityDeadlineMs(n: number, claimed: number, slack: number, floorMs: number): number {
  const expectedMs = claimed > 0 ? (productUnits(n) / claimed) * 1000 : 0;
  return Math.max(floorMs, Math.ceil(slack * expectedMs));
}

/**
 * Whether a proof that took `elapsedMs` (round trip) showed the claimed throughput: it must arrive
 * within slack × the compute time the claim implies, plus a fixed allowance for the round trip
 * itself (encoding, the socket, a busy event loop). Judging the round trip's throughput alone
 * failed honest nodes whose product takes milliseconds while the transport takes tens of them.
 * The allowance is never more than slack × that compute time, though: otherwise a claim whose
 * product would take less than the allowance could be any number (a node claiming a million
 * times its speed still answered in time), so the claim is also bounded by 2·slack × the
 * throughput the round trip proved.
 */
export function capacityShown(
  elapsedMs: number,
  n: number,
  claimed: number,
  slack: number,
  allowanceMs: number,
): boolean {
  const expectedMs = claimed > 0 ? (productUnits(n) / claimed) * 1000 : 0;
  return elapsedMs <= slack * expectedMs + Math.min(allowanceMs, slack * expectedMs);
}
