// What a screen reader is told of a scan, politely and once each: the enterprise found, the count of
// licenses and failures, an error's headline and advice, 下一位 done. One live region (Announcer.vue);
// the scan bar and the error banner are not live regions, so nothing is read twice.
import { reactive } from 'vue';
import { onCustomerCleared } from './session';

export const announcer = reactive({ text: '' });

/** How long each announcement stays in the region before the next replaces it: a screen reader
 *  reads a polite change when it is free, and two changes in one moment would lose the first. */
const HOLD_MS = 700;

const queue: string[] = [];
let speaking = false;
/** Bumped when the customer leaves: a timer of what was said about them does nothing after that. */
let generation = 0;

/** Says `text` after whatever is still being said. */
export function announce(text: string): void {
  queue.push(text);
  if (!speaking) sayNext();
}

function sayNext(): void {
  const text = queue.shift();
  if (text === undefined) {
    speaking = false;
    return;
  }
  speaking = true;
  const mine = generation;
  // Emptied first, so the same words twice in a row are a change, and read again.
  announcer.text = '';
  setTimeout(() => {
    if (mine !== generation) return;
    announcer.text = text;
    setTimeout(() => mine === generation && sayNext(), HOLD_MS);
  }, 30);
}

/** The customer left (下一位, an idle clear, a lock, the next scan): nothing said of them stays in the page or waits to be said. */
function forgetAnnouncements(): void {
  generation += 1;
  queue.length = 0;
  speaking = false;
  announcer.text = '';
}

onCustomerCleared(forgetAnnouncements);
