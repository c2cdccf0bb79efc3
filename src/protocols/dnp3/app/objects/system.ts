/**
 * System object rows: class data (group 60, object headers without data that select classes in
 * READ and unsolicited enable/disable requests) and internal indications (group 80, written by the
 * master to clear IIN1.7 DEVICE_RESTART), after IEEE 1815-2012 Annex A.
 */
import { NO_DATA, PACKED_1, type ObjectRow } from './row.js';

const A = 'IEEE 1815-2012 Annex A, group';

/** System rows, keyed `Group<g>Var<v>`. */
export const SYSTEM_OBJECTS = {
  Group60Var1: {
    group: 60,
    variation: 1,
    type: 'ClassData',
    kind: 'class',
    description: 'class 0 data (all static data)',
    layout: NO_DATA,
    clause: `${A} 60`,
  },
  Group60Var2: {
    group: 60,
    variation: 2,
    type: 'ClassData',
    kind: 'class',
    description: 'class 1 data (events)',
    layout: NO_DATA,
    clause: `${A} 60`,
  },
  Group60Var3: {
    group: 60,
    variation: 3,
    type: 'ClassData',
    kind: 'class',
    description: 'class 2 data (events)',
    layout: NO_DATA,
    clause: `${A} 60`,
  },
  Group60Var4: {
    group: 60,
    variation: 4,
    type: 'ClassData',
    kind: 'class',
    description: 'class 3 data (events)',
    layout: NO_DATA,
    clause: `${A} 60`,
  },
  Group80Var1: {
    group: 80,
    variation: 1,
    type: 'InternalIndications',
    kind: 'iin',
    description: 'internal indications, packed format',
    layout: PACKED_1,
    clause: `${A} 80`,
  },
} as const satisfies Record<string, ObjectRow>;
