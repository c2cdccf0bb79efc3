/**
 * Time object rows: time and date (group 50), common time of occurrence (group 51) and time delays
 * (group 52), after IEEE 1815-2012 Annex A. A CTO gives the base time of the relative-time event
 * objects (g2v3, g4v3) that follow it in the same fragment.
 */
import { fixed, type ObjectRow } from './row.js';

const A = 'IEEE 1815-2012 Annex A, group';

/** Time rows, keyed `Group<g>Var<v>`. */
export const TIME_OBJECTS = {
  Group50Var1: {
    group: 50,
    variation: 1,
    type: 'DNPTime',
    kind: 'time',
    description: 'time and date, absolute time',
    layout: fixed('TIME48'),
    clause: `${A} 50`,
  },
  Group50Var3: {
    group: 50,
    variation: 3,
    type: 'DNPTime',
    kind: 'time',
    description: 'time and date, absolute time at last recorded time',
    layout: fixed('TIME48'),
    clause: `${A} 50`,
  },
  Group51Var1: {
    group: 51,
    variation: 1,
    type: 'CommonTimeOfOccurrence',
    kind: 'time',
    description: 'common time of occurrence, synchronized',
    layout: fixed('CTO48'),
    clause: `${A} 51`,
  },
  Group51Var2: {
    group: 51,
    variation: 2,
    type: 'CommonTimeOfOccurrence',
    kind: 'time',
    description: 'common time of occurrence, unsynchronized',
    layout: fixed('CTO48'),
    clause: `${A} 51`,
  },
  Group52Var1: {
    group: 52,
    variation: 1,
    type: 'TimeDelay',
    kind: 'time',
    description: 'time delay, coarse (seconds)',
    layout: fixed('DELAY_S16'),
    clause: `${A} 52`,
  },
  Group52Var2: {
    group: 52,
    variation: 2,
    type: 'TimeDelay',
    kind: 'time',
    description: 'time delay, fine (milliseconds)',
    layout: fixed('DELAY_MS16'),
    clause: `${A} 52`,
  },
} as const satisfies Record<string, ObjectRow>;
