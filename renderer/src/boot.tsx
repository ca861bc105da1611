// The console itself, loaded by main.tsx once the first inventory request is out.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { firstScreen } from './state/inventory';
import { applyTheme } from './theme';

/**
 * How long the console waits for the first screen's hosts before it is drawn without them.
 * Drawn at once, it would be drawn twice, first with "Loading the inventory…": the map would
 * come later than when the console is drawn once, with it.
 */
const FIRST_SCREEN_WAIT_MS = 400;

/** At most this long for the first frame: a page opened in a background tab draws none. */
const FRAME_WAIT_MS = 1000;

/** Draws the console; settles once its first screen is painted. */
export async function mount(): Promise<void> {
  applyTheme();
  await firstScreen(FIRST_SCREEN_WAIT_MS);
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  // A task queued from a frame's callback runs after that frame is painted.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, FRAME_WAIT_MS);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}
