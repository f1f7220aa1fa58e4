/**
 * A small bar chart drawn as SVG, for charts on first pages (the usage chart of Credits usage):
 * no chart library to download. Each label (a day) has one bar per stack, side by side, and the
 * series of a stack are drawn on top of each other. The picture is one image for assistive
 * technology (its `label`); the numbers belong in a table beside it.
 */
import { useEffect, useRef, useState } from "react";
import type { Series } from "./BarChart";

const LEFT = 40;
const BOTTOM = 22;
const TOP = 8;

/** A round top for the axis: 1, 2, 5 × a power of ten, at least the largest total. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

/** The stacks in the order their first series comes, each with its series. */
export function stacksOf(series: Series[]): Series[][] {
  const stacks = new Map<string, Series[]>();
  for (const s of series) stacks.set(s.stack ?? s.name, [...(stacks.get(s.stack ?? s.name) ?? []), s]);
  return [...stacks.values()];
}

/** The element's size in CSS pixels, kept up to date, so the chart draws in pixels (text unscaled). */
function useSize(fallback: { width: number; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState(fallback);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const { width, height } = entry.contentRect;
      if (width > 0 && height > 0) setSize({ width: Math.round(width), height: Math.round(height) });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [box, size] as const;
}

export function SvgBars({ label, labels, series }: { label: string; labels: string[]; series: Series[] }) {
  const [box, { width: WIDTH, height: HEIGHT }] = useSize({ width: 720, height: 180 });
  const stacks = stacksOf(series);
  const totals = labels.flatMap((_, day) =>
    stacks.map((stack) => stack.reduce((sum, s) => sum + (s.values[day] ?? 0), 0)),
  );
  const top = niceMax(Math.max(0, ...totals));
  const plot = { width: WIDTH - LEFT, height: HEIGHT - TOP - BOTTOM };
  const slot = plot.width / Math.max(1, labels.length);
  const bar = Math.max(1, (slot * 0.8) / Math.max(1, stacks.length));
  const y = (value: number) => TOP + plot.height - (value / top) * plot.height;
  // Day labels thin out so that they never overlap: about one per 48 px.
  const every = Math.max(1, Math.ceil(48 / slot));
  return (
    <div className="svg-chart">
      <div className="svg-chart-plot" ref={box}>
        <svg width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
          {[0, top / 2, top].map((tick) => (
            <g key={tick}>
              <line x1={LEFT} x2={WIDTH} y1={y(tick)} y2={y(tick)} className="svg-chart-grid" />
              <text x={LEFT - 6} y={y(tick) + 4} textAnchor="end" className="svg-chart-tick">
                {tick.toLocaleString("en-US")}
              </text>
            </g>
          ))}
          {labels.map((day, i) => (
            <g key={day}>
              {stacks.map((stack, j) => {
                let base = 0;
                return stack.map((s) => {
                  const value = s.values[i] ?? 0;
                  const from = base;
                  base += value;
                  if (!value) return null;
                  return (
                    <rect
                      key={s.name}
                      x={LEFT + i * slot + slot * 0.1 + j * bar}
                      width={bar}
                      y={y(from + value)}
                      height={y(from) - y(from + value)}
                      fill={s.color}
                    />
                  );
                });
              })}
              {i % every === 0 && (
                <text x={LEFT + i * slot + slot / 2} y={HEIGHT - 6} textAnchor="middle" className="svg-chart-tick">
                  {day}
                </text>
              )}
            </g>
          ))}
        </svg>
      </div>
      <ul className="svg-chart-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.name}>
            <span className="svg-chart-swatch" style={{ background: s.color }} />
            {s.name}
          </li>
        ))}
      </ul>
    </div>
  );
}
