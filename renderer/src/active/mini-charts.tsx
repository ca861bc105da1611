// Small live charts of one migration, fed from its ring buffer. No animation and fixed
// sizes: dozens of these redraw several times a second.
import { Area, AreaChart, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { Sample } from '../state/progress';
import { formatMiB, formatRate } from '../format';

const W = 190;
const H = 54;
const margin = { top: 4, right: 2, bottom: 2, left: 2 };

export function RemainingChart({ samples }: { samples: Sample[] }) {
  return (
    <figure className="mini-chart" aria-label="Remaining dirty memory over time">
      <figcaption>Remaining</figcaption>
      <AreaChart width={W} height={H} data={samples} margin={margin}>
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} hide />
        <YAxis hide domain={[0, 'auto']} />
        <Tooltip
          isAnimationActive={false}
          formatter={(v) => formatMiB(Number(v))}
          labelFormatter={(t) => `${Number(t).toFixed(1)} s`}
          contentStyle={{ fontSize: 11, padding: '2px 6px' }}
        />
        <Area
          dataKey="remainingMiB"
          name="Remaining"
          type="linear"
          stroke="var(--chart-1)"
          fill="var(--chart-1)"
          fillOpacity={0.18}
          strokeWidth={1.5}
          isAnimationActive={false}
          dot={false}
        />
      </AreaChart>
    </figure>
  );
}

export function RateChart({ samples }: { samples: Sample[] }) {
  return (
    <figure className="mini-chart" aria-label="Dirty rate against bandwidth over time">
      <figcaption>
        <i className="key" style={{ background: 'var(--chart-2)' }} />
        dirty <i className="key" style={{ background: 'var(--chart-3)' }} />
        bandwidth
      </figcaption>
      <LineChart width={W} height={H} data={samples} margin={margin}>
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} hide />
        <YAxis hide domain={[0, 'auto']} />
        <Tooltip
          isAnimationActive={false}
          formatter={(v) => formatRate(Number(v))}
          labelFormatter={(t) => `${Number(t).toFixed(1)} s`}
          contentStyle={{ fontSize: 11, padding: '2px 6px' }}
        />
        <Line dataKey="dirtyMiBps" name="Dirty rate" stroke="var(--chart-2)" strokeWidth={1.5} dot={false} isAnimationActive={false} />
        <Line dataKey="bandwidthMiBps" name="Bandwidth" stroke="var(--chart-3)" strokeWidth={1.5} dot={false} isAnimationActive={false} />
      </LineChart>
    </figure>
  );
}
