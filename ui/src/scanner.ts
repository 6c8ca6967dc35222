// The keyboard-wedge scanner: turns key events typed anywhere in the window into scan payloads, and folds full-width input.

/** A scanner behind a Chinese input method (or a half/full-width toggle) types full-width
 *  characters; the payload is ASCII, so fold them back before anything else sees it. */
export function foldScanText(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCodePoint(c - 0xfee0);
    else if (c === 0x3000) out += ' ';
    else if (ch === '。') out += '.';
    else if (ch === '：') out += ':';
    else if (ch === '／') out += '/';
    else out += ch;
  }
  return out;
}

/** Inputs that take no typed text: a ticked checkbox or a chosen radio keeps the focus, and the
 *  next scan must still work. */
const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Fields that take typed text; the scanner leaves their keys alone. A `<select>` is not one:
 *  the clerk often scans right after picking the item, with the select still focused. */
export function isEditable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLInputElement) return !NOT_TEXT.has(el.type);
  return el.tagName === 'TEXTAREA';
}

function isSelect(el: EventTarget | null): boolean {
  return el instanceof HTMLSelectElement;
}

const IDLE_RESET_MS = 2000;
const MIN_PAYLOAD = 4;

/** Listens on window in the capture phase, so a scan's closing Enter is taken before a focused
 *  card or button sees it (it would otherwise open the viewer or press the button). */
export function attachScanner(onScan: (payload: string) => void): () => void {
  let buffer = '';
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reset = () => {
    buffer = '';
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // Keys that belong to an input method composition are not the scanner's characters.
    if (e.isComposing || e.keyCode === 229) return;
    if (isEditable(e.target)) return;
    if (e.key === 'Enter') {
      if (buffer.length >= MIN_PAYLOAD) {
        const payload = buffer;
        reset();
        e.preventDefault();
        e.stopPropagation();
        onScan(payload);
      } else {
        // Too short to be a code: leave Enter to the focused button or card.
        reset();
      }
      return;
    }
    if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) return;
    // On a focused select, typed characters would jump to a matching item: the scan would
    // silently change the service item.
    if (isSelect(e.target)) e.preventDefault();
    buffer += foldScanText(e.key);
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(reset, IDLE_RESET_MS);
  };

  window.addEventListener('keydown', onKeyDown, true);
  return () => {
    window.removeEventListener('keydown', onKeyDown, true);
    reset();
  };
}
