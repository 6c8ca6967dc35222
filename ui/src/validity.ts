// How a license's validity period and sizes are written on screen ("2024-01-01 至 2029-12-31" or "长期").
import { t } from './i18n';

export function validityText(from: string | null, until: string | null): string {
  // No end date is what the gateway means by 长期, whatever the start.
  if (!until) return t('license.longTerm');
  return t('license.range', { from: from ?? '—', to: until });
}

/** "2026-11-28T14:30:00+08:00" → "2026-11-28 14:30": the clerk reads China time, as the gateway wrote it. */
export function dateTimeText(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}
