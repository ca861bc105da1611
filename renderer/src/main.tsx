// The console's entry, kept small: it asks for the first screen's hosts, then loads the
// console (boot.tsx: React and the views, preloaded from the page's head). The request is
// on the socket before that code is evaluated, which holds the main thread for a while: the
// server builds the answer meanwhile. The rest of the inventory is asked for once the first
// screen is drawn. The stylesheets stay here so that they load with the page.
import { connected } from './api';
import { startInventory } from './state/inventory';
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
import './styles/events.css';

const drawn = connected.then(() => import('./boot')).then((boot) => boot.mount());
startInventory(drawn);
