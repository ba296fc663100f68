// A live time-series chart (uPlot): one or two lines over the sampled window.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
}

/** Ticks of a chart of whole things (providers, jobs, audits): a tick at 0.5 read "1" beside the 1. */
const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7];

export function Chart(props: {
  title: string;
  t: number[];
  lines: Line[];
  unit?: string;
  format?: (v: number) => string;
  /** the values are counts: whole-number ticks and labels */
  counts?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [props.t.map((x) => x / 1000), ...props.lines.map((l) => l.values)];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = props.format ?? (props.counts ? (v: number) => v.toFixed(0) : (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)));
    plot.current = new uPlot(
      {
        width: el.clientWidth || 360,
        height: 150,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        // from zero to a little over the highest value (to 1 when there is none yet): a floor of 1 drew
        // a provider's earnings of 10⁻⁷ credits a bucket as a flat line on zero
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max !== null && max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#eef0f3" } },
          // as wide as its longest label: a fixed 56 px cut "0.000005" down to "000005"
          { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#eef0f3" }, size: axisWidth, values: (_u, vals) => vals.map((v) => fmt(v)), ...(props.counts ? { incrs: WHOLE_INCRS } : {}) },
        ],
        series: [
          {},
          ...props.lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, fill: `${l.color}22`, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${fmt(v)}${props.unit ? ` ${props.unit}` : ""}`) })),
        ],
      },
      data(),
      el,
    );
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.lines.length]);

  useEffect(() => {
    plot.current?.setData(data());
  });

  const last = props.lines.map((l) => l.values.at(-1));
  return (
    <section class="card chart" data-chart={props.title} data-points={props.t.length} data-nonzero={props.lines.reduce((n, l) => n + l.values.filter((v) => v !== null && v !== 0).length, 0)}>
      <header>
        <h3>{props.title}</h3>
        <span class="big">
          {last.map((v, i) => (
            <span key={props.lines[i]?.label}>{v === null || v === undefined ? "—" : (props.format ?? ((x: number) => x.toFixed(props.counts ? 0 : 1)))(v)} </span>
          ))}
          {props.unit ? <small>{props.unit}</small> : null}
        </span>
      </header>
      <div ref={box} class="plot" />
    </section>
  );
}

/** Pixels a y axis needs for its labels (uPlot passes them formatted), at least the 56 it had. */
function axisWidth(_u: uPlot, values: string[] | null): number {
  const longest = Math.max(0, ...(values ?? []).map((v) => v.length));
  return Math.max(56, longest * 7 + 18);
}
