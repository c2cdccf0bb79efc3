/** IEC 61850 over MMS (IEC 61850-8-1): report control blocks and information reports. */
export * from './rcb.js';
export * from './report.js';
