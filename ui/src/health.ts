// The gateway's health as the header shows it (live from "gateway-health", first read with gateway_health) and 网页模式 (open_portal).
import { reactive } from 'vue';
import * as api from './api';
import { adviceFor } from './errors';
import { lang, t } from './i18n';
import type { AppError, GatewayHealth, HealthLevel } from './types';

export interface HealthState {
  now: GatewayHealth | null;
  /** The details line under the indicator is open. */
  expanded: boolean;
  portalOpening: boolean;
  /** What the last 网页模式 did: the host opened, or why it failed; cleared after a while. */
  portalNote: { ok: boolean; text: string } | null;
}

export const health = reactive<HealthState>({ now: null, expanded: false, portalOpening: false, portalNote: null });

let started = false;
let events = 0;
let noteTimer: ReturnType<typeof setTimeout> | undefined;

/** Listens first, then asks once; an event newer than the answer wins. Idempotent. */
export async function startHealth(): Promise<void> {
  if (started) return;
  started = true;
  try {
    await api.onGatewayHealth((h) => {
      events++;
      health.now = h;
    });
  } catch {
    // Without the event, the answer below still shows the state at start.
  }
  const seen = events;
  try {
    const h = await api.gatewayHealth();
    if (seen === events) health.now = h;
  } catch {
    // The next "gateway-health" event fills it in.
  }
}

export function level(): HealthLevel {
  return health.now?.level ?? 'unknown';
}

/** "10:02" from an ISO time in China time ("2026-11-28T10:02:00+08:00"), as written. */
export function clockTime(iso: string | null): string {
  return iso && iso.length >= 16 ? iso.slice(11, 16) : '';
}

function skewWarning(h: GatewayHealth): number | null {
  return h.clockSkewSecs !== null && Math.abs(h.clockSkewSecs) > 60 ? Math.abs(h.clockSkewSecs) : null;
}

/** The words beside the dot: the level, then the one fact that matters most for it. */
export function summary(): { label: string; fact: string } {
  const h = health.now;
  const lvl = level();
  const label = t(`health.${lvl}` as const);
  if (!h || lvl === 'unknown') return { label, fact: '' };
  const since = h.lastSuccessAt ? t('health.lastSuccess', { time: clockTime(h.lastSuccessAt) }) : t('health.neverReached');
  if (lvl === 'ok') return { label, fact: since };
  if (lvl === 'down') return { label, fact: since };
  if (h.recentFailures > 0) return { label, fact: t('health.recentFailures', { n: h.recentFailures }) };
  const skew = skewWarning(h);
  return { label, fact: skew !== null ? t('health.clockOff', { n: skew }) : since };
}

/** The details line: the advice for the last failure (the core's Chinese, or errors.ts in English), its time and code. */
export function details(): string[] {
  const h = health.now;
  if (!h || h.level === 'unknown') return [t('health.checking')];
  const lines: string[] = [];
  if (h.lastFailureCode && h.level !== 'ok') {
    const advice = lang.value === 'en' ? adviceFor(h.lastFailureCode).en : (h.advice ?? adviceFor(h.lastFailureCode).zh);
    lines.push(advice);
    lines.push(t('health.lastFailure', { time: clockTime(h.lastFailureAt), code: h.lastFailureCode }));
    if (h.consecutiveFailures > 1) lines.push(t('health.consecutive', { n: h.consecutiveFailures }));
  }
  const skew = skewWarning(h);
  if (skew !== null) lines.push(t('health.clockAdvice', { n: skew }));
  if (h.lastSuccessAt) lines.push(t('health.lastSuccess', { time: clockTime(h.lastSuccessAt) }));
  return lines;
}

function note(ok: boolean, text: string): void {
  health.portalNote = { ok, text };
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => {
    health.portalNote = null;
  }, 8000);
}

/** 网页模式: the shell opens the configured portal in the system browser (the window names no address). */
export async function openPortal(): Promise<void> {
  if (health.portalOpening) return;
  health.portalOpening = true;
  try {
    const opened = await api.openPortal();
    note(true, t('health.portalOpened', { host: opened.host }));
  } catch (e) {
    const err = e as AppError;
    note(false, err.fact || err.message || String(e));
  } finally {
    health.portalOpening = false;
  }
}
