import { COMMAND_TYPES, type CommandType } from '@stockmesh/contracts';
import { AdjustStockCommand } from './adjust-stock/adjust-stock.command.js';
import { ReservationCommand } from './reservation.command.js';

/** The typed map of command types to their data. */
export interface CommandDataMap {
  [COMMAND_TYPES.adjustStock]: AdjustStockCommand;
  [COMMAND_TYPES.commitReservation]: ReservationCommand;
  [COMMAND_TYPES.releaseReservation]: ReservationCommand;
}

export const COMMAND_DATA_CLASSES: { readonly [T in CommandType]: new () => CommandDataMap[T] } = {
  [COMMAND_TYPES.adjustStock]: AdjustStockCommand,
  [COMMAND_TYPES.commitReservation]: ReservationCommand,
  [COMMAND_TYPES.releaseReservation]: ReservationCommand,
};

export function isCommandType(type: string): type is CommandType {
  return Object.hasOwn(COMMAND_DATA_CLASSES, type);
}
