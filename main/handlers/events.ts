import type { Handlers } from '../router';
import type { EventsLogService } from '../services/events-log';

export const eventsHandlers = (events: EventsLogService): Pick<Handlers, 'events:list' | 'events:alarms' | 'events:ack'> => ({
  'events:list': (r) => events.list(r),
  'events:alarms': () => events.alarms(),
  'events:ack': (r) => events.ack(r.id),
});
