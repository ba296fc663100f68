// Benchmark settings from `--name value` flags, else BENCH_NAME env variables, else defaults,
// so `npm run bench -- --jobs 20000` and `BENCH_JOBS=20000 npm run bench` both scale a run up.
import { parseArgs } from "node:util";

export interface FlagSpec {
  help: string;
  default: number | boolean | string;
}

export type FlagValues<T extends Record<string, FlagSpec>> = {
  [K in keyof T]: T[K]["default"] extends number ? number : T[K]["default"] extends boolean ? boolean : string;
};

function envName(flag: string): string {
  return `BENCH_${flag.replace(/-/g, "_").toUpperCase()}`;
}

/** Parses the flags a bench knows; unknown flags are ignored so run.ts can pass one set to all. */
export function readFlags<T extends Record<string, FlagSpec>>(
  bench: string,
  spec: T,
  argv = process.argv.slice(2),
): FlagValues<T> {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [name, s] of Object.entries(spec))
    options[name] = { type: typeof s.default === "boolean" ? "boolean" : "string" };
  // --no-<flag> turns a boolean off (Node 20's parseArgs has no allowNegative)
  const negated = new Set(argv.filter((a) => a.startsWith("--no-")).map((a) => a.slice(5)));
  const { values } = parseArgs({
    args: argv.filter((a) => !a.startsWith("--no-")),
    options,
    strict: false,
    allowPositionals: true,
  });
  for (const name of negated) if (typeof spec[name]?.default === "boolean") values[name] = false;
  if (values.help) {
    const lines = Object.entries(spec).map(
      ([name, s]) => `  --${name.padEnd(18)} ${s.help} (default ${String(s.default)}; env ${envName(name)})`,
    );
    process.stdout.write(`usage: npx tsx bench/${bench}.ts [flags]\n${lines.join("\n")}\n`);
    process.exit(0);
  }
  const out: Record<string, number | boolean | string> = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = values[name] ?? process.env[envName(name)];
    if (raw === undefined) {
      out[name] = s.default;
    } else if (typeof s.default === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${String(raw)}'`);
      out[name] = n;
    } else if (typeof s.default === "boolean") {
      out[name] = raw === true || raw === "1" || raw === "true";
    } else {
      out[name] = String(raw);
    }
  }
  return out as FlagValues<T>;
}

/** The flags that differ from the defaults, as they would be typed, for the results' command line. */
export function nonDefaultFlags<T extends Record<string, FlagSpec>>(
  spec: T,
  values: FlagValues<T>,
  argv = process.argv.slice(2),
): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(spec)) {
    const v = (values as Record<string, unknown>)[name];
    if (v === s.default) continue;
    // set through BENCH_<FLAG> (the command line shows the variable) rather than typed
    const typed = argv.some((a) => a === `--${name}` || a === `--no-${name}` || a.startsWith(`--${name}=`));
    if (!typed && process.env[envName(name)] !== undefined) continue;
    if (typeof v === "boolean") {
      out.push(v ? `--${name}` : `--no-${name}`);
    } else out.push(`--${name}`, String(v));
  }
  return out;
}
