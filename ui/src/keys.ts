// The keys of each screen, as the F1 overlay lists them (KeysDialog.vue). README's key table is the
// same list for people reading the manual; a UI test checks that every key here is in it.
import { ref } from 'vue';
import type { MessageKey } from './i18n/zh-CN';

export type Screen = 'counter' | 'viewer' | 'supervisor' | 'signin';

export interface KeyRow {
  /** What is pressed, as printed on the keyboard. */
  keys: string;
  action: MessageKey;
  /** Only where it applies: sandbox mode, a supervisor signed in, a counter with accounts. */
  only?: 'sandbox' | 'supervisor' | 'accounts';
}

export const KEYS: Record<Screen, KeyRow[]> = {
  counter: [
    { keys: '扫码枪', action: 'keys.scan' },
    { keys: 'F2', action: 'keys.manual' },
    { keys: 'Ctrl+V', action: 'keys.paste' },
    { keys: 'F4', action: 'keys.camera' },
    { keys: 'Tab', action: 'keys.tab' },
    { keys: 'Enter', action: 'keys.openCard' },
    { keys: 'Ctrl+P', action: 'keys.print' },
    { keys: 'F9', action: 'keys.record' },
    { keys: 'F8', action: 'keys.next' },
    { keys: 'F6', action: 'keys.sandbox', only: 'sandbox' },
    { keys: 'F10', action: 'keys.supervisor', only: 'supervisor' },
    { keys: 'Ctrl+L', action: 'keys.signOut', only: 'accounts' },
    { keys: 'F1', action: 'keys.help' },
  ],
  viewer: [
    { keys: 'PgUp / PgDn', action: 'keys.pages' },
    { keys: '↑ ↓ ← →', action: 'keys.scroll' },
    { keys: 'Ctrl+= / Ctrl+- / Ctrl+0', action: 'keys.zoom' },
    { keys: 'Ctrl+P', action: 'keys.print' },
    { keys: 'Esc', action: 'keys.closeViewer' },
    { keys: 'F1', action: 'keys.help' },
  ],
  supervisor: [
    { keys: 'Tab', action: 'keys.tab' },
    { keys: 'F10 / Esc', action: 'keys.backToCounter' },
    { keys: 'Ctrl+L', action: 'keys.signOut' },
    { keys: 'F1', action: 'keys.help' },
  ],
  signin: [
    { keys: 'Tab', action: 'keys.tab' },
    { keys: 'Enter', action: 'keys.signIn' },
    { keys: 'F1', action: 'keys.help' },
  ],
};

/** The overlay's state: open, and for which screen. */
export const keysHelp = ref<Screen | null>(null);
