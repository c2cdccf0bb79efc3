/**
 * What gridgate concludes from IEC 61850 reporting traffic: one row per kind of finding, with its
 * severity and what it means for the engineer reading it. The analyser (`findings.ts`) only ever
 * raises kinds of this table; the formatters print the `title` and, once per kind, the `why`.
 */

/** How much a finding matters: something is wrong (`fault`), may be wrong (`warning`), could be configured better (`advice`), worth knowing (`info`). */
export type Severity = 'fault' | 'warning' | 'advice' | 'info';

/** Severities from the most to the least serious: the order findings are listed in. */
export const SEVERITIES: readonly Severity[] = ['fault', 'warning', 'advice', 'info'];

/** Every kind of finding (IEC 61850-7-2 clause 17 and IEC 61850-8-1 clause 17.2 for the reporting rules cited). */
export const FINDING_KINDS = {
  'time-1970': {
    severity: 'fault',
    title: 'time stamp in 1970',
    why: 'the IED has no valid time for this value (never set, or its clock lost at power-up): the sequence of events cannot be rebuilt from it',
  },
  'time-far': {
    severity: 'warning',
    title: 'time stamp far from the capture or arrival time',
    why: "the IED's clock and this machine's disagree by more than the allowed skew: check time synchronisation (SNTP/PTP) on both",
  },
  'clock-not-synchronized': {
    severity: 'warning',
    title: 'time quality: clock not synchronised',
    why: 'the IED says its clock is not synchronised to an external time source (IEC 61850-8-1 8.1.3.7): time stamps may drift',
  },
  'clock-failure': {
    severity: 'fault',
    title: 'time quality: clock failure',
    why: 'the IED says its time source is unreliable (IEC 61850-8-1 8.1.3.7): its time stamps cannot be trusted',
  },
  'quality-invalid': {
    severity: 'fault',
    title: 'member reported with invalid quality',
    why: 'the value must not be used (IEC 61850-7-3 6.2): the detail bits say why (failure, bad-reference, overflow, ...)',
  },
  'quality-questionable': {
    severity: 'warning',
    title: 'member reported with questionable quality',
    why: 'the value may be wrong (IEC 61850-7-3 6.2): old-data, oscillatory, inaccurate and the like; check the source',
  },
  'quality-flags': {
    severity: 'warning',
    title: 'member reported as test, substituted or operator-blocked',
    why: 'the value is not the live process value (IEC 61850-7-3 6.2): a test, a substitution or a blocked update is in force',
  },
  'sqnum-gap': {
    severity: 'fault',
    title: 'SqNum gap: reports missing',
    why: 'SqNum counts every report of the block (IEC 61850-7-2 17.2.3.2.2.2): reports were lost between the IED and this point, or the capture missed them',
  },
  'sqnum-repeat': {
    severity: 'warning',
    title: 'SqNum repeated',
    why: 'the same report number came twice outside segmentation: a duplicate, or the block was re-enabled without the capture showing it',
  },
  'buffer-overflow': {
    severity: 'fault',
    title: 'BufOvfl set: the IED lost buffered events',
    why: 'the buffered block overflowed while no client was reading (IEC 61850-7-2 17.2.2.7): the oldest events are gone; shorten outages or reduce what is buffered',
  },
  'confrev-changed': {
    severity: 'fault',
    title: 'ConfRev changed under a subscription',
    why: "the data set or the block's configuration changed (IEC 61850-7-2 17.2.2.5): member positions may no longer mean what the client thinks; re-read the data set",
  },
  'entryid-backwards': {
    severity: 'warning',
    title: 'EntryID went backwards',
    why: 'entries are numbered in order (IEC 61850-7-2 17.2.2.12): an older entry again means the IED resent its buffer, so events may be seen twice',
  },
  'late-report': {
    severity: 'warning',
    title: 'report arrived later than BufTm after its TimeOfEntry',
    why: "the report waited longer than the block's buffer time allows: a congested link, a slow client, a buffered backlog after a reconnect, or a clock offset",
  },
  'member-never-reported': {
    severity: 'info',
    title: 'data set member never reported',
    why: 'no report carried this member: it did not change, or its trigger options exclude it; a general interrogation would report it',
  },
  'block-in-use': {
    severity: 'warning',
    title: 'the block is held by another client',
    why: 'RptEna or Resv was true when read, or a write was refused temporarily-unavailable (IEC 61850-7-2 17.2.2.3/17.2.2.11): another client owns this instance; use a free instance',
  },
  'trgops-no-gi': {
    severity: 'advice',
    title: 'TrgOps without general-interrogation',
    why: 'a GI request is ignored: after a reconnect the client cannot get the current value of every member',
  },
  'trgops-no-quality-change': {
    severity: 'advice',
    title: 'TrgOps without quality-change',
    why: 'a member turning invalid or questionable with an unchanged value is never reported',
  },
  'integrity-no-period': {
    severity: 'advice',
    title: 'integrity requested with IntgPd 0',
    why: 'integrity reports are sent every IntgPd; with 0 none is ever sent (IEC 61850-7-2 17.2.2.10)',
  },
  'optflds-no-reason': {
    severity: 'advice',
    title: 'OptFlds without reason-for-inclusion',
    why: 'reports do not say why each member is included: a change cannot be told from a GI or integrity report',
  },
  'optflds-no-time-stamp': {
    severity: 'advice',
    title: 'OptFlds without report-time-stamp',
    why: 'reports carry no TimeOfEntry: delays and late reports cannot be measured',
  },
  'optflds-no-sequence-number': {
    severity: 'advice',
    title: 'OptFlds without sequence-number',
    why: 'reports carry no SqNum: lost or repeated reports cannot be detected',
  },
  'optflds-no-entry-id': {
    severity: 'advice',
    title: 'buffered block without entryID in OptFlds',
    why: 'reports carry no EntryID: after a reconnect the client cannot resynchronise and events are lost or repeated',
  },
  'buftm-zero-buffered': {
    severity: 'advice',
    title: 'BufTm 0 on a buffered block',
    why: 'every change is its own report: a burst of events becomes a burst of reports, which fills the buffer faster',
  },
} as const satisfies Record<string, { readonly severity: Severity; readonly title: string; readonly why: string }>;

/** The name of a kind of finding. */
export type FindingKind = keyof typeof FINDING_KINDS;
