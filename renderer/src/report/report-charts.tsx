// Per-round charts of one finished migration: sizes fixed by the container, scaled down
// for print by report.css (recharts draws with a viewBox).
import { Area, CartesianGrid, ComposedChart, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RoundSample } from '../../../preload/model';
import { formatMs, formatRate } from '../format';
import { NO_SAMPLES, spansTime } from './report-words';

const MiB = 1024 * 1024;
const axis = { stroke: 'var(--chart-axis)', fontSize: 11, tickLine: false } as const;
const tooltip = {
  contentStyle: { background: 'var(--surface)', border: '1px solid var(--border)', borderRadius: 6, fontSize: 12, color: 'var(--text)' },
  isAnimationActive: false,
  labelFormatter: (t: unknown) => `${Number(t).toFixed(2)} s`,
} as const;

/** Sizes are plotted in GiB when they reach a GiB, so the axis gets round ticks. */
function sizeUnit(rounds: RoundSample[]): { div: number; label: string } {
  const max = Math.max(0, ...rounds.map((r) => Math.max(r.remainingBytes, r.transferredBytes)));
  return max >= 1024 * MiB ? { div: 1024 * MiB, label: 'GiB' } : { div: MiB, label: 'MiB' };
}

function toPoints(rounds: RoundSample[], div: number) {
  return rounds.map((r) => ({
    t: r.t / 1000,
    round: r.round,
    remaining: r.remainingBytes / div,
    transferred: r.transferredBytes / div,
    dirty: r.dirtyMiBps,
    bandwidth: r.bandwidthMiBps,
    downtime: r.expectedDowntimeMs,
    faults: r.faults ?? 0,
  }));
}

export function RoundCharts({ rounds }: { rounds: RoundSample[] }) {
  if (!spansTime(rounds)) {
    return (
      <p className="muted" data-testid="report-no-samples">
        {NO_SAMPLES}
      </p>
    );
  }
  const unit = sizeUnit(rounds);
  const pts = toPoints(rounds, unit.div);
  const size = (v: number) => `${Number(v.toFixed(2))} ${unit.label}`;
  const hasFaults = pts.some((p) => p.faults > 0);
  return (
    <div className="report-charts">
      <figure className="report-chart">
        <figcaption>Remaining dirty memory and data transferred</figcaption>
        <div className="chart-box">
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={pts} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
              <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} {...axis} tickFormatter={(v: number) => `${v.toFixed(1)} s`} />
              <YAxis yAxisId="rem" {...axis} tickFormatter={size} width={64} />
              <YAxis yAxisId="tx" orientation="right" {...axis} tickFormatter={size} width={64} />
              <Tooltip {...tooltip} formatter={(v, name) => [size(Number(v)), name]} />
              <Legend wrapperStyle={{ fontSize: 11 }} />
              <Area yAxisId="rem" dataKey="remaining" name="Remaining" stroke="var(--chart-1)" fill="var(--chart-1)" fillOpacity={0.15} isAnimationActive={false} />
              <Line yAxisId="tx" dataKey="transferred" name="Transferred (total)" stroke="var(--chart-4)" dot={false} strokeWidth={2} isAnimationActive={false} />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      </figure>
      <figure className="report-chart">
        <figcaption>Dirty rate against bandwidth (MiB/s)</figcaption>
        <div className="chart-box">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={pts} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
              <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} {...axis} tickFormatter={(v: number) => `${v.toFixed(1)} s`} />
              <YAxis {...axis} width={48} />
              <Tooltip {...tooltip} formatter={(v, name) => [formatRate(Number(v)), name]} />
              <Legend wrapperStyle={{ fontSize: 11 }} />
              <Line dataKey="dirty" name="Dirty rate" stroke="var(--chart-2)" dot={false} strokeWidth={2} isAnimationActive={false} />
              <Line dataKey="bandwidth" name="Bandwidth" stroke="var(--chart-3)" dot={false} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </figure>
      <figure className="report-chart">
        <figcaption>Expected downtime at each moment{hasFaults ? ' and post-copy page faults' : ''}</figcaption>
        <div className="chart-box">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={pts} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
              <CartesianGrid stroke="var(--chart-grid)" vertical={false} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} {...axis} tickFormatter={(v: number) => `${v.toFixed(1)} s`} />
              <YAxis yAxisId="ms" {...axis} tickFormatter={(v: number) => formatMs(v)} width={64} />
              {hasFaults && <YAxis yAxisId="f" orientation="right" {...axis} width={48} />}
              <Tooltip {...tooltip} formatter={(v, name) => [name === 'Post-copy faults' ? v : formatMs(Number(v)), name]} />
              <Legend wrapperStyle={{ fontSize: 11 }} />
              <Line yAxisId="ms" dataKey="downtime" name="Expected downtime" stroke="var(--chart-5)" dot={false} strokeWidth={2} isAnimationActive={false} />
              {hasFaults && <Line yAxisId="f" dataKey="faults" name="Post-copy faults" stroke="var(--chart-2)" dot={false} isAnimationActive={false} />}
            </LineChart>
          </ResponsiveContainer>
        </div>
      </figure>
    </div>
  );
}
