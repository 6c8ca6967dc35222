// The handling record (办结) of the current case and the outbox behind it: the panel's choices, submit and retry, and the live outbox counts.
import { reactive } from 'vue';
import * as api from './api';
import { effectiveStatus, onCustomerCleared, state } from './session';
import type { AppError, OutboxStatus, RecordDto, RecordStatus } from './types';

export const RECORD_STATUSES: RecordStatus[] = ['RECEIVED', 'ACCEPTED', 'DONE', 'REJECTED'];

/** The whole desk's outbox (not one customer's): shown in the header, live from "outbox-changed". */
export const outbox = reactive<OutboxStatus>({ waiting: 0, refused: 0, current: null });

export interface RecordPanelState {
  open: boolean;
  /** Set once per customer, when the panel first opens: valid licenses ticked. */
  prepared: boolean;
  ticked: string[];
  status: RecordStatus | null;
  reason: string;
  submitting: boolean;
  retrying: boolean;
  error: AppError | null;
  /** The record of this case, once submitted (or found in the outbox). */
  record: RecordDto | null;
}

export const panel = reactive<RecordPanelState>({
  open: false, prepared: false, ticked: [], status: null, reason: '', submitting: false, retrying: false, error: null, record: null,
});

let gen = 0;
let outboxSeq = 0;

function applyOutbox(s: OutboxStatus): void {
  outbox.waiting = s.waiting;
  outbox.refused = s.refused;
  // Only the record of the case on the desk; an event about an earlier number is history.
  const current = s.current && s.current.bizNum === state.bizNum ? s.current : null;
  outbox.current = current;
  if (current && panel.record && panel.record.bizNum === current.bizNum) panel.record = current;
}

/** Listens to the background sender before the counter is known, then takes counter_info's figures
 *  unless an event was newer. */
export async function startOutbox(): Promise<void> {
  try {
    await api.onOutboxChanged((s) => {
      outboxSeq++;
      applyOutbox(s);
    });
  } catch {
    // Without the event the counts still come with counter_info and after each submit.
  }
}

export function takeCounterOutbox(s: OutboxStatus | undefined): void {
  if (s && outboxSeq === 0) applyOutbox(s);
}

async function refreshOutbox(): Promise<void> {
  const seq = outboxSeq;
  try {
    const s = await api.outboxStatus();
    if (seq === outboxSeq) applyOutbox(s);
  } catch {
    // The badge catches up with the next "outbox-changed".
  }
}

/** A license may be named in the record only while it is valid. */
export function tickable(code: string): boolean {
  const card = state.cards.find((c) => c.summary.licenseCode === code);
  return !!card && effectiveStatus(card) === 'valid';
}

export function openPanel(): void {
  if (!state.enterprise) return;
  if (!panel.prepared) {
    panel.prepared = true;
    panel.ticked = state.cards.filter((c) => effectiveStatus(c) === 'valid').map((c) => c.summary.licenseCode);
  }
  if (!panel.record && outbox.current && outbox.current.bizNum === state.bizNum) panel.record = outbox.current;
  panel.open = true;
}

export function closePanel(): void {
  if (panel.submitting) return;
  panel.open = false;
}

export function setTicked(code: string, on: boolean): void {
  const rest = panel.ticked.filter((c) => c !== code);
  panel.ticked = on && tickable(code) ? [...rest, code] : rest;
}

export function reasonNeeded(): boolean {
  return panel.status === 'REJECTED' && !panel.reason.trim();
}

export function canSubmit(): boolean {
  return !!panel.status && !reasonNeeded() && !panel.submitting && !panel.record;
}

export async function submit(): Promise<void> {
  if (!canSubmit() || !panel.status) return;
  const my = gen;
  const reason = panel.reason.trim();
  // In card order, and only what is still valid.
  const codes = state.cards.map((c) => c.summary.licenseCode).filter((c) => panel.ticked.includes(c) && tickable(c));
  panel.submitting = true;
  panel.error = null;
  try {
    const r = await api.submitRecord(panel.status, reason || null, codes);
    if (my !== gen) return;
    panel.record = r;
    void refreshOutbox();
  } catch (e) {
    if (my !== gen) return;
    panel.error = api.asAppError(e);
  } finally {
    if (my === gen) panel.submitting = false;
  }
}

/** 重新提交: a refused record queued again. */
export async function retry(): Promise<void> {
  const r = panel.record;
  if (!r || r.state !== 'refused' || panel.retrying) return;
  const my = gen;
  panel.retrying = true;
  panel.error = null;
  try {
    const again = await api.retryRecord(r.bizNum);
    if (my !== gen) return;
    panel.record = again;
    void refreshOutbox();
  } catch (e) {
    if (my !== gen) return;
    panel.error = api.asAppError(e);
  } finally {
    if (my === gen) panel.retrying = false;
  }
}

onCustomerCleared(() => {
  gen++;
  Object.assign(panel, {
    open: false, prepared: false, ticked: [], status: null, reason: '', submitting: false, retrying: false, error: null, record: null,
  });
  outbox.current = null;
});
