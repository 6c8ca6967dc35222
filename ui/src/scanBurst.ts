// Tells a scanner's burst from typing in a text field: keys far faster than a person types, ending in Enter, are a scan and are taken back out.

/** A scanner's keys are a few ms apart; a person's rarely under 40 ms, and never a run of them. */
const FAST_MS = 40;
/** A busy PC can hold one key of a burst back; a single gap up to this long does not end a burst. */
const HICCUP_MS = 250;
/** The middle gap of a burst: a scanner's, not a fast typist's. */
const BURST_MEDIAN_MS = 25;
const MIN_CHARS = 4;

interface Key {
  at: number;
  /** The field's text before this key. */
  before: string;
}

/** Where the burst that ends the history starts: walks back over fast gaps and over single
 *  hiccups inside fast runs; `null` when the tail does not look like a scanner at all. */
export function burstStart(keys: readonly Key[], enterAt: number): number | null {
  const n = keys.length;
  if (n < MIN_CHARS || enterAt - keys[n - 1].at > HICCUP_MS) return null;
  const gap = (i: number) => keys[i].at - keys[i - 1].at;
  let start = n - 1;
  while (start > 0) {
    const g = gap(start);
    const fast = g <= FAST_MS;
    // A slow gap with fast keys on both sides is the PC pausing, not a person starting to type.
    const hiccup = g <= HICCUP_MS && n - start >= 2 && start >= 2 && gap(start - 1) <= FAST_MS;
    if (!fast && !hiccup) break;
    start--;
  }
  if (n - start < MIN_CHARS) return null;
  const gaps = [];
  for (let i = start + 1; i < n; i++) gaps.push(gap(i));
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] <= BURST_MEDIAN_MS ? start : null;
}

/**
 * A keydown handler for a text field. When a burst ends with Enter, the Enter is cancelled and
 * `onBurst` gets the field's text from before the burst, to put back. `isScan`, when given, has the
 * last word on a burst, from the time (event time base) its first key arrived.
 */
export function burstGuard(onBurst: (before: string) => void, isScan?: (startedAt: number) => boolean): (e: KeyboardEvent) => void {
  let keys: Key[] = [];
  return (e) => {
    const el = e.target as HTMLInputElement | HTMLTextAreaElement;
    if (e.isComposing || e.keyCode === 229) {
      keys = [];
      return;
    }
    // When the key arrived, not when this handler got to it: a busy window handles a burst's keys late and
    // unevenly, but their timestamps keep the scanner's spacing (performance.now() only if the browser gives none).
    const now = e.timeStamp > 0 ? e.timeStamp : performance.now();
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
      const start = burstStart(keys, now);
      if (start !== null && (!isScan || isScan(keys[start].at))) {
        e.preventDefault();
        onBurst(keys[start].before);
      }
      keys = [];
      return;
    }
    if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) {
      keys = [];
      return;
    }
    keys.push({ at: now, before: el.value });
    // Only the tail matters; a long reason typed by hand need not be remembered key by key.
    if (keys.length > 512) keys = keys.slice(-256);
  };
}
