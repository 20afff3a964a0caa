// Whether this machine can run on several processes: what `doctor` reports. Loading the addon maps
// libmpi but starts nothing; MPI_Get_library_version is allowed before MPI_Init.
import { existsSync } from 'node:fs';
import { findMpirun, mpirunVersion } from './launch.js';
import { ADDON_PATH, loadAddon } from './mpi.js';

export interface MpiStatus {
  usable: boolean;
  mpirun?: string;
  mpirunVersion?: string;
  addon: string;
  /** libmpi's own version string, from the loaded addon. */
  library?: string;
  problem?: string;
}

export function mpiStatus(): MpiStatus {
  const mpirun = findMpirun();
  const status: MpiStatus = { usable: false, mpirun, mpirunVersion: mpirunVersion(), addon: existsSync(ADDON_PATH) ? ADDON_PATH : 'not built' };
  try {
    status.library = loadAddon().version().split('\n')[0].trim();
  } catch (err) {
    status.problem = (err as Error).message;
    return status;
  }
  if (!mpirun) {
    status.problem = 'E0407 mpirun not found on PATH; run `npm run setup`';
    return status;
  }
  status.usable = true;
  return status;
}
