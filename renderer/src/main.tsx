import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { startInventory } from './state/inventory';
import { applyTheme } from './theme';
import './styles/theme.css';
import './styles/base.css';
import './styles/shell.css';
import './styles/map.css';
import './styles/host-card.css';
import './styles/active.css';
import './styles/dialog.css';
import './styles/history.css';
import './styles/report.css';
import './styles/maintenance.css';
import './styles/vms.css';

applyTheme();
startInventory();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
