// Model names for the OpenAI API. Models are identified by content id (sha256 of the GGUF);
// the public name is the file's name, disambiguated with a hash prefix when two files share it.
import { isContentId, type ModelInfo, UnknownModel } from "@tessera/protocol";
import type { FastifyInstance } from "fastify";
import type { Engine } from "../engine/engine.js";
import type { RouteContext } from "./context.js";

export function publicModelNames(models: Engine["models"]): Map<string, ModelInfo> {
  const byName = new Map<string, ModelInfo[]>();
  for (const { info } of models.values()) {
    const name = info.name.replace(/\.gguf$/i, "");
    byName.set(name, [...(byName.get(name) ?? []), info]);
  }
  const out = new Map<string, ModelInfo>();
  for (const [name, infos] of byName) {
    if (infos.length === 1) out.set(name, infos[0]!);
    else for (const info of infos) out.set(`${name}@${info.id.slice(0, 12)}`, info);
  }
  return out;
}

export function resolveModel(engine: Engine, model: string): { id: string; name: string } {
  if (isContentId(model)) {
    if (!engine.models.has(model)) throw new UnknownModel(model);
    const name = [...publicModelNames(engine.models)].find(([, i]) => i.id === model)?.[0] ?? model;
    return { id: model, name };
  }
  const info = publicModelNames(engine.models).get(model);
  if (!info) throw new UnknownModel(model);
  return { id: info.id, name: model };
}

export function modelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/v1/models", async () => {
    const online = new Set(ctx.engine.onlineSessions().map((s) => s.id));
    const data = [...publicModelNames(ctx.engine.models)].map(([name, info]) => {
      const providers = [...(ctx.engine.models.get(info.id)?.providers ?? [])];
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
    });
    return { object: "list", data };
  });

  app.get("/v1/models/:model", async (req) => {
    const { model } = req.params as { model: string };
    const r = resolveModel(ctx.engine, model);
    const info = ctx.engine.models.get(r.id)!.info;
    return {
      id: r.name,
      object: "model",
      created: 0,
      owned_by: "tessera",
      content_id: info.id,
      parameters: info.parameters,
    };
  });
}
