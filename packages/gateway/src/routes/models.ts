// Model names for the OpenAI API. Models are identified by content id (sha256 of the GGUF);
// the public name is the file's name. When two files share a name, the one served by the most
// online providers the scheduler would use (then by the most providers ever, then the first seen)
// keeps the plain name and the others are disambiguated with a hash prefix: a provider offering a
// file under a name already in use cannot rename the model everyone else serves, and keys that are
// free to make (unstaked under --min-stake, excluded, capacity unshown) count for nothing.
import { isContentId, type ModelInfo, UnknownModel } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import type { Engine } from "../engine/engine.js";
import type { RouteContext } from "./context.js";

export function publicModelNames(engine: Engine): Map<string, ModelInfo> {
  // online nodes the scheduler would lease to, and those it would not; whether a node offline now
  // would be used cannot be told, so the count of all nodes ever leaves out only the second kind
  const usable = new Set<string>();
  const unusable = new Set<string>();
  for (const s of engine.onlineSessions()) (engine.eligible(s) ? usable : unusable).add(s.id);
  const byName = new Map<string, { info: ModelInfo; usable: number; all: number }[]>();
  for (const { info, providers } of engine.models.values()) {
    const name = info.name.replace(/\.gguf$/i, "");
    const ids = [...providers];
    const served = {
      info,
      usable: ids.filter((p) => usable.has(p)).length,
      all: ids.filter((p) => !unusable.has(p)).length,
    };
    byName.set(name, [...(byName.get(name) ?? []), served]);
  }
  const out = new Map<string, ModelInfo>();
  for (const [name, served] of byName) {
    // a stable sort: equal counts keep the order the models were first seen in
    const [first, ...rest] = [...served].sort((a, b) => b.usable - a.usable || b.all - a.all);
    if (first) out.set(name, first.info);
    for (const { info } of rest) out.set(`${name}@${info.id.slice(0, 12)}`, info);
  }
  return out;
}

export function resolveModel(engine: Engine, model: string): { id: string; name: string } {
  if (isContentId(model)) {
    if (!engine.models.has(model)) throw new UnknownModel(model);
    const name = [...publicModelNames(engine)].find(([, i]) => i.id === model)?.[0] ?? model;
    return { id: model, name };
  }
  const info = publicModelNames(engine).get(model);
  if (!info) throw new UnknownModel(model);
  return { id: info.id, name: model };
}

/** One model as both routes show it: OpenAI's model object and what a client needs to size a request. */
function modelObject(engine: Engine, name: string, info: ModelInfo) {
  // the nodes that would serve a request now: an unstaked or excluded node serves none
  const online = new Set(
    engine
      .onlineSessions()
      .filter((s) => engine.eligible(s))
      .map((s) => s.id),
  );
  const providers = [...(engine.models.get(info.id)?.providers ?? [])];
  return {
    id: name,
    object: "model" as const,
    created: 0,
    owned_by: "tessera",
    content_id: info.id,
    parameters: info.parameters,
    context_length: info.contextSize,
    providers_online: providers.filter((p) => online.has(p)).length,
  };
}

// Both model routes take a consumer key, as OpenAI's do: chat UIs and SDK set-ups verify a key by
// listing models, so a wrong key that lists them passes for a good one. Who needs the models
// without a key (the dashboard) reads them from the explorer's provider list. Retrieving a model
// answers the object the list holds for it, as OpenAI's does.
export function modelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/v1/models", async (req) => {
    await ctx.auth.consumerFor(req.headers.authorization);
    const data = [...publicModelNames(ctx.engine)].map(([name, info]) => modelObject(ctx.engine, name, info));
    return { object: "list", data };
  });

  app.get("/v1/models/:model", async (req) => {
    await ctx.auth.consumerFor(req.headers.authorization);
    const { model } = req.params as { model: string };
    const r = resolveModel(ctx.engine, model);
    return modelObject(ctx.engine, r.name, ctx.engine.models.get(r.id)!.info);
  });
}
