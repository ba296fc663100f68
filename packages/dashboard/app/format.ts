// How numbers, money and times read on the page.

/** nano-credits (decimal string or number) as credits with up to 9 decimals, trimmed */
export function credits(nc: string | number | bigint | null | undefined): string {
  if (nc === null || nc === undefined) return "—";
  const v = BigInt(typeof nc === "number" ? Math.round(nc) : nc);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole.toLocaleString("en-US")}${frac ? `.${frac}` : ""}`;
}

export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(digits)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(digits)} k`;
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(digits);
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return "—";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

export function ago(t: number | null | undefined): string {
  if (!t) return "—";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function time(t: number | null | undefined): string {
  return t ? new Date(t).toLocaleString() : "—";
}

export function short(id: string | null | undefined, n = 10): string {
  if (!id) return "—";
  return id.length > n + 2 ? `${id.slice(0, n)}…` : id;
}

/**
 * The end of an id: job ids begin with their creation time, so jobs of the same second share
 * their beginning and differ in their random end.
 */
export function tail(id: string | null | undefined, n = 10): string {
  if (!id) return "—";
  return id.length > n + 2 ? `…${id.slice(-n)}` : id;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)} %`;
}
