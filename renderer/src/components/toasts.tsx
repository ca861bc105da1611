import { dismiss, useToasts } from '../state/toasts';

/** The in-page notification area (polite live region; errors are announced assertively). */
export function Toasts() {
  const toasts = useToasts();
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions" data-testid="toasts">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={`toast ${t.kind}`}
          role={t.kind === 'error' ? 'alert' : 'status'}
          data-testid={t.testId ?? `toast-${t.kind}`}
        >
          <div className="title">{t.title}</div>
          <button type="button" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
            ×
          </button>
          {t.body && <div className="body">{t.body}</div>}
          {t.link && (
            <a className="link" href={t.link.href}>
              {t.link.label}
            </a>
          )}
        </div>
      ))}
    </div>
  );
}
