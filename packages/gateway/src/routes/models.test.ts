import type { ModelInfo } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import type { Engine } from "../engine/engine.js";
import { publicModelNames } from "./models.js";

const model = (id: string, name: string): ModelInfo => ({
  id: id.repeat(64).slice(0, 64),
  name,
  parameters: 1_000,
  contextSize: 2048,
});

/** the engine's model table, who is online and whom the scheduler would use: all publicModelNames reads */
function engine(entries: [ModelInfo, string[]][], online: string[], ineligible: string[] = []): Engine {
  return {
    models: new Map(entries.map(([info, providers]) => [info.id, { info, providers: new Set(providers) }])),
    onlineSessions: () => online.map((id) => ({ id })),
    eligible: (s: { id: string }) => !ineligible.includes(s.id),
  } as unknown as Engine;
}

describe("publicModelNames", () => {
  const real = model("a", "tiny.gguf");
  const clash = model("b", "tiny");

  it("names a model by its file name without .gguf", () => {
    expect([...publicModelNames(engine([[real, ["p1"]]], ["p1"])).keys()]).toEqual(["tiny"]);
  });

  it("keeps the plain name for the file most online providers serve when another takes the same name", () => {
    // the clashing file came first, but one provider serves it against two for the real one
    const names = publicModelNames(
      engine(
        [
          [clash, ["evil"]],
          [real, ["p1", "p2"]],
        ],
        ["evil", "p1", "p2"],
      ),
    );
    expect(names.get("tiny")?.id).toBe(real.id);
    expect(names.get(`tiny@${clash.id.slice(0, 12)}`)?.id).toBe(clash.id);
  });

  it("breaks a tie by the model seen first, so a newcomer cannot take a name by arriving", () => {
    const names = publicModelNames(
      engine(
        [
          [real, ["p1"]],
          [clash, ["evil"]],
        ],
        ["p1", "evil"],
      ),
    );
    expect(names.get("tiny")?.id).toBe(real.id);
    expect(names.get(`tiny@${clash.id.slice(0, 12)}`)?.id).toBe(clash.id);
  });

  it("counts only nodes the scheduler would use: unstaked keys cannot outnumber a staked node", () => {
    // two free keys, not staked under --min-stake, offer another file under the name
    const names = publicModelNames(
      engine(
        [
          [real, ["staked"]],
          [clash, ["sybil1", "sybil2"]],
        ],
        ["staked", "sybil1", "sybil2"],
        ["sybil1", "sybil2"],
      ),
    );
    expect(names.get("tiny")?.id).toBe(real.id);
  });

  it("keeps the name while the staked node is away and only unusable keys are online", () => {
    const names = publicModelNames(
      engine(
        [
          [clash, ["sybil1", "sybil2"]],
          [real, ["staked"]],
        ],
        ["sybil1", "sybil2"],
        ["sybil1", "sybil2"],
      ),
    );
    expect(names.get("tiny")?.id).toBe(real.id);
  });
});
