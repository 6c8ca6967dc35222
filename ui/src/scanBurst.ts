// Tells a scanner's burst from typing in a text field: keys far faster than a person types, ending in Enter, are a scan and are taken back out.

/** A person's keys are rarely under 50 ms apart four times in a row and then Enter; a scanner's are a few ms apart. */
const GAP_MS = 50;
const MIN_CHARS = 4;

/**
 * A keydown handler for a text field. When a burst ends with Enter, the Enter is cancelled and
 * `onBurst` gets the field's text from before the burst, to put back.
 */
export function burstGuard(onBurst: (before: string) => void): (e: KeyboardEvent) => void {
  let before = '';
  let count = 0;
  let last = 0;
  return (e) => {
    const el = e.target as HTMLInputElement | HTMLTextAreaElement;
    if (e.isComposing || e.keyCode === 229) {
      count = 0;
      return;
    }
    const now = performance.now();
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
      if (count >= MIN_CHARS && now - last < GAP_MS) {
        e.preventDefault();
        count = 0;
        onBurst(before);
      } else {
        count = 0;
      }
      return;
    }
    if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) {
      count = 0;
      return;
    }
    if (count === 0 || now - last > GAP_MS) {
      before = el.value;
      count = 0;
    }
    count++;
    last = now;
  };
}
