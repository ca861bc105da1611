// Summary cards and charts of the filtered history (from history.summary).
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from 'recharts';
import type { HistorySummary } from '../../../preload/contract';
import { formatBytes, formatCount, formatMs, formatPct, STRATEGY_LABEL } from '../format';

const axis = { stroke: 'var(--chart-axis)', fontSize: 11, tickLine: false } as const;
const tooltipStyle = {
  contentStyle: { background: 'var(--surface)', border: '1px solid var(--border)', borderRadius: 6, fontSize: 12, color: 'var(--text)' },
  labelStyle: { color: 'var(--text)', fontWeight: 600 },
  isAnimationActive: false,
} as const;
const STRATEGY_COLOR: Record<string, string> = {
  precopy: 'var(--chart-1)',
  postcopy: 'var(--chart-2)',
  hybrid: 'var(--chart-5)',
  'stop-and-copy': 'var(--chart-4)',
};
const msTick = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${Math.round(v)} ms`);

/** A percentile card's value: exact as it is; from the rollup histograms with "≈" and a tooltip saying how close. */
function percentile(s: HistorySummary, ms: number | null): { value: string; title?: string } {
  if (!s.approximate || ms === null) return { value: formatMs(ms) };
  return {
    value: `≈ ${formatMs(ms)}`,
    title: `Approximate: from the daily rollup histograms, within ±${s.resolutionPct ?? '?'} % (nearest rank). Narrow the filters for exact figures.`,
  };
}

export function SummaryCards({ s }: { s: HistorySummary | null }) {
  const none = { value: '—' };
  const cards: [string, { value: string; title?: string }, string?][] = [
    ['Migrations', s ? { value: formatCount(s.count) } : none, s ? `${s.byOutcome.completed ?? 0} ok · ${s.byOutcome.failed ?? 0} failed · ${s.byOutcome.cancelled ?? 0} cancelled` : undefined],
    ['Success rate', s ? { value: formatPct(s.successRate, 1) } : none, 'completed / finished'],
    ['Downtime p50', s ? percentile(s, s.downtimeP50) : none],
    ['Downtime p95', s ? percentile(s, s.downtimeP95) : none],
    ['Downtime p99', s ? percentile(s, s.downtimeP99) : none],
    ['Data moved', s ? { value: formatBytes(s.totalBytes) } : none],
  ];
  return (
    <div className="summary-cards" data-testid="history-summary">
      {cards.map(([label, { value, title }, sub]) => (
        <div key={label} className="panel stat">
          <span className="stat-label">{label}</span>
          <strong className="stat-value" title={title} data-approximate={title ? 'true' : undefined}>
            {value}
          </strong>
          <span className="stat-sub">{sub ?? ' '}</span>
        </div>
      ))}
    </div>
  );
}

function ChartPanel({ title, children, empty }: { title: string; children: React.ReactElement; empty: boolean }) {
  return (
    <figure className="panel chart-panel">
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        {empty ? (
          <div className="empty small">No data for these filters.</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            {children}
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}

export function SummaryCharts({ s }: { s: HistorySummary | null }) {
  const hist = (s?.downtimeHistogram ?? []).map((b, i, all) => ({
    // The open last bucket comes as leMs -1 (JSON has no Infinity).
    label: b.leMs < 0 || !Number.isFinite(b.leMs) ? `> ${msTick(all[i - 1]?.leMs ?? 0)}` : `≤ ${msTick(b.leMs)}`,
    count: b.count,
  }));
  const strategies = (s?.byStrategy ?? []).map((b) => ({ ...b, name: STRATEGY_LABEL[b.strategy] ?? b.strategy }));
  const byStrategy = new Map<string, { predictedMs: number; actualMs: number }[]>();
  for (const p of s?.predictedVsActual ?? []) {
    let list = byStrategy.get(p.strategy);
    if (!list) byStrategy.set(p.strategy, (list = []));
    list.push(p);
  }
  const maxPA = Math.max(1, ...(s?.predictedVsActual ?? []).flatMap((p) => [p.predictedMs, p.actualMs]));
  return (
    <div className="chart-grid">
      <ChartPanel title="Downtime distribution" empty={!hist.some((h) => h.count > 0)}>
        <BarChart data={hist} margin={{ top: 8, right: 8, bottom: 4, left: 4 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          {/* Every bucket labelled under its own bar (interval 0), slanted so none is skipped. */}
          <XAxis dataKey="label" {...axis} interval={0} angle={-35} textAnchor="end" height={48} tickMargin={2} />
          <YAxis {...axis} allowDecimals={false} width={40} label={{ value: 'Migrations', angle: -90, position: 'insideLeft', offset: 8, fontSize: 11, fill: 'var(--muted)' }} />
          <Tooltip {...tooltipStyle} formatter={(v) => [v, 'migrations']} />
          <Bar dataKey="count" name="Migrations" fill="var(--chart-1)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ChartPanel>
      <ChartPanel title="Downtime p95 per day" empty={!s?.overTime.length}>
        <ComposedChart data={s?.overTime ?? []} margin={{ top: 8, right: 0, bottom: 0, left: -8 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis dataKey="day" {...axis} />
          <YAxis yAxisId="ms" {...axis} tickFormatter={msTick} />
          <YAxis yAxisId="n" orientation="right" {...axis} allowDecimals={false} />
          <Tooltip {...tooltipStyle} formatter={(v, name) => (name === 'Downtime p95' ? formatMs(Number(v)) : v)} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Bar yAxisId="n" dataKey="count" name="Migrations" fill="var(--chart-grid)" stroke="var(--border-strong)" isAnimationActive={false} />
          <Line yAxisId="ms" dataKey="downtimeP95" name="Downtime p95" stroke="var(--chart-2)" strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
        </ComposedChart>
      </ChartPanel>
      <ChartPanel title="Prediction error per day (median, total time)" empty={!s?.errorOverTime.length}>
        <ComposedChart data={s?.errorOverTime ?? []} margin={{ top: 8, right: 0, bottom: 0, left: -8 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis dataKey="day" {...axis} />
          <YAxis yAxisId="pct" {...axis} domain={[0, (max: number) => Math.max(4, Math.ceil(max * 1.2))]} allowDecimals={false} tickFormatter={(v: number) => `${Math.round(v)} %`} />
          <YAxis yAxisId="n" orientation="right" {...axis} allowDecimals={false} />
          <Tooltip {...tooltipStyle} formatter={(v, name) => (name === 'Median error' ? `${Number(v).toFixed(1)} %` : v)} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Bar yAxisId="n" dataKey="count" name="Migrations" fill="var(--chart-grid)" stroke="var(--border-strong)" isAnimationActive={false} />
          <Line yAxisId="pct" dataKey="medianErrorPct" name="Median error" stroke="var(--chart-3, var(--chart-2))" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
        </ComposedChart>
      </ChartPanel>
      <ChartPanel title="By strategy: median downtime and duration" empty={!strategies.length}>
        <BarChart data={strategies} margin={{ top: 8, right: 0, bottom: 0, left: -8 }}>
          <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
          <XAxis dataKey="name" {...axis} />
          <YAxis yAxisId="down" {...axis} tickFormatter={msTick} />
          <YAxis yAxisId="total" orientation="right" {...axis} tickFormatter={msTick} />
          <Tooltip {...tooltipStyle} formatter={(v, name) => [formatMs(Number(v)), name]} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Bar yAxisId="down" dataKey="downtimeP50" name="Downtime p50" fill="var(--chart-2)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
          <Bar yAxisId="total" dataKey="totalMsP50" name="Duration p50" fill="var(--chart-1)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
        </BarChart>
      </ChartPanel>
      <ChartPanel title="Predicted vs actual duration (latest 500)" empty={!s?.predictedVsActual.length}>
        <ScatterChart margin={{ top: 8, right: 12, bottom: 8, left: 8 }}>
          <CartesianGrid stroke="var(--chart-grid)" />
          <XAxis
            type="number"
            dataKey="predictedMs"
            name="Predicted"
            {...axis}
            tickFormatter={msTick}
            domain={[0, maxPA]}
            height={40}
            label={{ value: 'Predicted', position: 'insideBottom', offset: 0, fontSize: 11, fill: 'var(--muted)' }}
          />
          <YAxis
            type="number"
            dataKey="actualMs"
            name="Actual"
            {...axis}
            tickFormatter={msTick}
            domain={[0, maxPA]}
            width={56}
            label={{ value: 'Actual', angle: -90, position: 'insideLeft', offset: 4, fontSize: 11, fill: 'var(--muted)' }}
          />
          <ZAxis range={[24, 24]} />
          <Tooltip {...tooltipStyle} formatter={(v, name) => [formatMs(Number(v)), name]} />
          <Legend verticalAlign="top" wrapperStyle={{ fontSize: 11 }} />
          <ReferenceLine
            segment={[
              { x: 0, y: 0 },
              { x: maxPA, y: maxPA },
            ]}
            stroke="var(--muted)"
            strokeDasharray="4 4"
            ifOverflow="extendDomain"
          />
          {[...byStrategy].map(([strategy, points]) => (
            <Scatter key={strategy} name={STRATEGY_LABEL[strategy] ?? strategy} data={points} fill={STRATEGY_COLOR[strategy] ?? 'var(--chart-3)'} isAnimationActive={false} />
          ))}
        </ScatterChart>
      </ChartPanel>
    </div>
  );
}
