// Hosts added by address (libvirt URIs): each connection's health, and adding, testing and
// removing hosts, with the SSH host-key check the user confirms by fingerprint.
import { useCallback, useEffect, useState } from 'react';
import type { HostConnection, HostTestResult } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatMiB } from '../format';

const STATE_BADGE: Record<HostConnection['state'], string> = { up: 'ok', connecting: 'warn', down: 'bad' };
const STATE_WORD: Record<HostConnection['state'], string> = { up: 'connected', connecting: 'connecting', down: 'unreachable' };

function useConnections(): [HostConnection[] | null, () => void] {
  const [list, setList] = useState<HostConnection[] | null>(null);
  const load = useCallback(() => void ferry.hosts.connections().then(setList, () => setList([])), []);
  useEffect(() => {
    load();
    // Connections change without inventory changes (a retry's countdown), and the inventory
    // changes every second without them (figures measured again): poll gently instead.
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, [load]);
  return [list, load];
}

function retryWords(at: number | null): string {
  if (at === null) return '';
  const s = Math.max(0, Math.round((at - Date.now()) / 1000));
  return s > 0 ? ` · retrying in ${s} s` : ' · retrying now';
}

function TestResult({ t }: { t: HostTestResult }) {
  if (!t.reachable) return <p className="error-text" data-testid="host-test-error">{t.error}</p>;
  return (
    <dl className="kv" data-testid="host-test-ok">
      <dt>Reached</dt>
      <dd>{t.hostname}</dd>
      <dt>Auth</dt>
      <dd>{t.auth}</dd>
      <dt>Versions</dt>
      <dd>
        libvirt {t.libvirtVersion}, QEMU {t.hypervisorVersion}
      </dd>
      <dt>Capacity</dt>
      <dd>
        {t.cpus} CPUs, {formatMiB(t.memoryMiB ?? 0)}, {t.runningDomains} running guests
      </dd>
    </dl>
  );
}

export function HostsView() {
  const [list, reload] = useConnections();
  const [uri, setUri] = useState('');
  const [name, setName] = useState('');
  const [peerUri, setPeerUri] = useState('');
  const [nic, setNic] = useState('');
  const [test, setTest] = useState<HostTestResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const nicValue = nic.trim() ? Number(nic) : undefined;
  const nicBad = nicValue !== undefined && !(nicValue > 0);
  const add = (acceptHostKey?: string) =>
    act(async () => {
      await ferry.hosts.add({ uri: uri.trim(), name: name.trim() || undefined, peerUri: peerUri.trim() || undefined, nicMiBps: nicValue, acceptHostKey });
      setUri('');
      setName('');
      setPeerUri('');
      setNic('');
      setTest(null);
      reload();
    });

  return (
    <div className="view hosts-view" data-testid="hosts-view">
      <section className="panel panel-body">
        <h2>Add a libvirt host</h2>
        <p className="muted">
          The URI you would give virsh: <code>qemu+ssh://root@kvm-07/system</code> (your SSH agent or <code>?keyfile=</code>), <code>qemu+tls://kvm-07/system</code> (client
          certificate) or <code>qemu+tcp://</code>. Ferry keeps the URI and key paths, never a password.
        </p>
        <form
          className="host-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => setTest(await ferry.hosts.test({ uri: uri.trim() })));
          }}
        >
          <label>
            URI
            <input value={uri} onChange={(e) => (setUri(e.target.value), setTest(null))} placeholder="qemu+ssh://root@host/system" required aria-label="Host URI" />
          </label>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="from its hostname" aria-label="Host name" />
          </label>
          <label>
            Peer URI
            <input value={peerUri} onChange={(e) => setPeerUri(e.target.value)} placeholder="how other hosts reach it (default: the URI)" aria-label="Peer URI" />
          </label>
          <label>
            Link MiB/s
            <input value={nic} onChange={(e) => setNic(e.target.value)} placeholder="1192 (10 GbE)" inputMode="decimal" aria-label="Link rate" aria-invalid={nicBad} />
          </label>
          <div className="host-form-actions">
            <button type="submit" className="btn" disabled={busy || !uri.trim()} data-testid="host-test">
              Test
            </button>
            <button type="button" className="btn primary" disabled={busy || !uri.trim() || nicBad || !test?.reachable} onClick={() => void add()} data-testid="host-add">
              Add host
            </button>
          </div>
        </form>
        {nicBad && <p className="error-text">The link rate must be a positive number of MiB/s.</p>}
        {test && <TestResult t={test} />}
        {test?.hostKeyUnknown && test.hostKey && (
          <div className="host-key" data-testid="host-key">
            <p>
              The SSH host key is not known. Compare it with the host's (<code>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</code> there):
            </p>
            <p className="mono">
              {test.hostKey.type} {test.hostKey.fingerprint}
            </p>
            <button type="button" className="btn primary" disabled={busy || nicBad} onClick={() => void add(test.hostKey!.fingerprint)} data-testid="host-accept-add">
              It matches: trust it and add the host
            </button>
          </div>
        )}
        {error && <p className="error-text" role="alert">{error}</p>}
      </section>
      <section className="panel panel-body" data-testid="host-connections">
        <h2>Connections</h2>
        {list === null && <p className="muted">Loading…</p>}
        {list?.length === 0 && <p className="muted">No hosts added by URI yet. The simulated datacenter and the QEMU lab need none.</p>}
        <ul className="driver-list">
          {list?.map((c) => (
            <li key={c.name} data-host={c.name} data-state={c.state}>
              <div className="driver-head">
                <strong>{c.name}</strong> <span className="badge">{c.driver}</span>
                <span className={`badge ${STATE_BADGE[c.state]}`}>{STATE_WORD[c.state]}</span>
                <button
                  type="button"
                  className="btn small ghost"
                  disabled={busy}
                  onClick={() => {
                    if (confirm(`Remove ${c.name}? Its guests keep running; Ferry stops showing them.`)) void act(async () => (await ferry.hosts.remove({ name: c.name }), reload()));
                  }}
                >
                  Remove
                </button>
              </div>
              <div className="mono muted">{c.uri}</div>
              <div className={c.state === 'down' ? 'error-text' : 'muted'}>
                {c.state === 'up' ? `${c.versions} · ${c.auth}` : c.state === 'down' ? `${c.error}${retryWords(c.retryAt)}` : 'connecting…'}
              </div>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
