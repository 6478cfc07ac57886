/** Driver registries: their keys are the rig file's `driver` names (docs/developer/conventions.md 3). */
import type { ButtonDriverName, PowerDriverName, RigButton, RigPowerChannel } from '../../config/types.js';
import type { Button } from './button.js';
import type { DriverContext } from './context.js';
import type { PowerChannel } from './power-channel.js';
import { KoradSupply } from './korad.js';
import { LcusButton } from './lcus-button.js';
import { LcusSwitch } from './lcus.js';
import { ManualButton } from './manual-button.js';
import { ManualChannel } from './manual.js';
import { NetSwitch } from './netswitch.js';
import { ScpiSupply } from './scpi.js';

export const powerDrivers: { [K in PowerDriverName]: (cfg: RigPowerChannel, ctx: DriverContext) => PowerChannel } = {
  scpi: (cfg, ctx) => new ScpiSupply(cfg, ctx),
  korad: (cfg, ctx) => new KoradSupply(cfg, ctx),
  lcus: (cfg, ctx) => new LcusSwitch(cfg, ctx),
  netswitch: (cfg, ctx) => new NetSwitch(cfg, ctx),
  manual: (cfg, ctx) => new ManualChannel(cfg, ctx),
};

export const buttonDrivers: { [K in ButtonDriverName]: (cfg: RigButton, ctx: DriverContext) => Button } = {
  lcus: (cfg, ctx) => new LcusButton(cfg, ctx),
  manual: (cfg, ctx) => new ManualButton(cfg, ctx),
};
