/** A thin horizontal bar; `fraction` is clamped to 0..1. */
export function Meter({
  fraction,
  color,
  tall,
  label,
}: {
  fraction: number;
  color?: string;
  tall?: boolean;
  label: string;
}) {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return (
    <div
      className={tall ? 'bar tall' : 'bar'}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(f * 100)}
    >
      <i style={{ width: `${f * 100}%`, background: color }} />
    </div>
  );
}
