import type { Handlers } from '../router';
import type { SettingsService } from '../services/settings';

export const settingsHandlers = (settings: SettingsService): Pick<Handlers, 'settings:get' | 'settings:set'> => ({
  'settings:get': () => settings.get(),
  'settings:set': (r) => settings.set(r),
});
