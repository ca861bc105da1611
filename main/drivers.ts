// The host drivers this Ferry runs, in the order their hosts are listed. A new driver is
// its own folder plus one line here; nothing outside its folder branches on its kind.
import type { DriverFactory } from './engine/driver';
import { simDriver } from './sim/sim-driver';
import { qemuDriver } from './qemu/driver';
import { libvirtDriver } from './libvirt/driver';

export const DRIVER_FACTORIES: readonly DriverFactory[] = [simDriver, qemuDriver, libvirtDriver];
