// The preload bridge: exposes exactly the contract on window.ferry and nothing else.
// Never ipcRenderer itself: makeApi only ever calls the contract's channel names.
import { contextBridge, ipcRenderer } from 'electron';
import { makeApi, type Channel, type Envelope, type EventName } from './contract';

const api = makeApi({
  invoke: (channel: Channel, req: unknown) => ipcRenderer.invoke(channel, req) as Promise<Envelope<unknown>>,
  subscribe: (event: EventName, listener: (payload: unknown) => void) => {
    const wrapped = (_e: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => {
      ipcRenderer.removeListener(event, wrapped);
    };
  },
});

contextBridge.exposeInMainWorld('ferry', api);
