// Wires the verification coordinator into a running gateway: the engine's scheduling filter and
// settle hook, the channel's verdict messages, and a timer that reloads stakes of connected nodes
// and pays out unbondings whose period has passed.
import type { CapacityProofMessage, VerdictMessage } from "@tessera/protocol";
import type { Store } from "@tessera/store";
import type { Logger } from "pino";
import type { GatewayConfig } from "../config.js";
import type { Engine } from "../engine/engine.js";
import type { ProviderSession } from "../engine/sessions.js";
import { CanaryService } from "./canaries.js";
import { CapacityProver } from "./capacity.js";
import { VerificationCoordinator } from "./coordinator.js";
import { tickEvery } from "./ticker.js";

export function startVerification(engine: Engine, store: Store, config: GatewayConfig, log: Logger, gatewayId = "") {
  let canaries: CanaryService | undefined;
  const coordinator = new VerificationCoordinator({
    store,
    writer: engine.writer,
    sessions: () => engine.sessions.values(),
    config: config.verification,
    log,
    onPassed: (job, verifiers, operator) => canaries?.onPassed(job, verifiers, operator),
    onFailed: (verifierId) => canaries?.afterFailed(verifierId),
    onEligibilityChanged: () => engine.kick(),
  });
  // canary jobs are escrowed on the local ledger; an EVM gateway would need a funded on-chain consumer
  if (config.settlement.kind === "local")
    canaries = new CanaryService({ engine, store, coordinator, policy: config.verification.canaries, gatewayId, log });
  const capacity = new CapacityProver(coordinator, config.verification.capacity, log);
  engine.eligible = (s) => coordinator.eligible(s) && capacity.schedulable(s);
  engine.jobCostCap = (s, inFlight) => coordinator.maxJobCostOf(s.id, inFlight);
  // an audit decided, parked, from before a restart or a canary judged unanswered takes no verdict
  // from the node still holding it: there it would wait for memory and run for nothing
  engine.auditAwaited = (s, auditId) =>
    coordinator.awaitsVerdict(auditId, s.id) || canaries?.awaitsVerdict(auditId, s.id) === true;
  void coordinator
    .restoreRecords()
    .then(() => canaries?.restore())
    .then(() => engine.kick())
    .catch((err) => log.fatal({ err }, "verification records could not be loaded"));
  engine.onSettled = (job) => {
    if (canaries?.isCanary(job)) {
      // until judged, a canary's cost counts against its provider's stake like an undecided audit's:
      // a wrong answer is slashed at once (or audited), from the stake its other jobs draw on
      const key = `judge:${job.id}`;
      coordinator.holdStake(key, job);
      return void canaries
        .judge(job)
        .catch((err) => log.error({ err }, "canary judge failed"))
        .finally(() => coordinator.releaseStake(key));
    }
    // a result not drawn for audit may be replayed, as it settles, as a known-wrong canary
    if (!coordinator.onSettled(job)) canaries?.afterUnaudited(job);
    canaries?.afterRealJob();
  };
  const known = new Set<string>();
  let last = Date.now();
  const tick = async () => {
    const now = Date.now();
    await coordinator.tickRecords(now - last);
    last = now;
    capacity.tick(engine.sessions.values());
    for (const s of engine.sessions.values()) {
      s.reputation ??= () => coordinator.reputationOf(s.id);
      const before = coordinator.stakes.staked(s.id);
      const now = await coordinator.stakes.refresh(s.id);
      if (!known.has(s.id) || now !== before) engine.kick();
      known.add(s.id);
    }
    await coordinator.stakes.releaseDue();
    await coordinator.resumeParked();
  };
  // a tick waits for the store; one that runs long delays the next rather than overlapping it
  const ticker = tickEvery(500, tick, (err) => log.error({ err }, "verification tick failed"));
  return {
    coordinator,
    canaries,
    onMessage: async (session: ProviderSession, msg: VerdictMessage | CapacityProofMessage) => {
      if (msg.type === "verdict" && !(await canaries?.onVerdict(session, msg)))
        await coordinator.onVerdict(session, msg);
      if (msg.type === "capacity_proof") {
        capacity.onProof(session, msg);
        engine.kick();
      }
    },
    stop: () => ticker.stop(),
  };
}
