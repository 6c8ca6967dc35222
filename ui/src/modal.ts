// The modal dialogs (print, status question, 办结, sign-out, About, accounts): one open at a time, keys while open, focus kept inside and given back.
import { nextTick, onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

const depth = ref(0);

/** True while one of these dialogs is open: the viewer and the app-wide keys step aside. */
export function modalOpen(): boolean {
  return depth.value > 0;
}

const FOCUSABLE =
  'button:not([disabled]), select:not([disabled]), input:not([disabled]), textarea:not([disabled]), [tabindex="0"]';

/** Keeps Tab inside `root`, as the page behind a dialog is inert while it is open. */
export function trapTab(root: HTMLElement, e: KeyboardEvent) {
  const items = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
  if (!items.length) {
    e.preventDefault();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  const active = document.activeElement;
  if (e.shiftKey && (active === first || !root.contains(active))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (active === last || !root.contains(active))) {
    e.preventDefault();
    first.focus();
  }
}

/**
 * Window keydown (bubble phase) for a modal: `onKey` returns true when it used the key.
 * A key an element already handled (defaultPrevented) is skipped; a scan's closing Enter never
 * gets here, because the scanner stops it in the capture phase. On close, focus goes back to
 * where it was when the dialog opened, if that element is still on screen.
 */
export function useModal(root: Ref<HTMLElement | null>, onKey: (e: KeyboardEvent) => boolean, initialFocus?: () => HTMLElement | null) {
  let before: Element | null = null;
  const listener = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.isComposing) return;
    if (e.key === 'Tab') {
      if (root.value) trapTab(root.value, e);
      return;
    }
    if (onKey(e)) e.preventDefault();
  };
  onMounted(() => {
    depth.value++;
    before = document.activeElement;
    window.addEventListener('keydown', listener);
    void nextTick(() => {
      initialFocus?.()?.focus();
      // A disabled or missing first choice: the dialog itself, never the page behind it.
      if (root.value && !root.value.contains(document.activeElement)) root.value.focus();
    });
  });
  onBeforeUnmount(() => {
    depth.value--;
    window.removeEventListener('keydown', listener);
    const back = before;
    before = null;
    // After the page behind is no longer inert.
    void nextTick(() => {
      if (back instanceof HTMLElement && back.isConnected && back !== document.body && !modalOpen()) back.focus();
    });
  });
}

/** A dialog whose only key is Esc, which closes it (`close`); the rest is `useModal`'s. */
export function useClosableModal(root: Ref<HTMLElement | null>, close: () => void, initialFocus?: () => HTMLElement | null) {
  useModal(
    root,
    (e) => {
      if (e.key !== 'Escape') return false;
      close();
      return true;
    },
    initialFocus,
  );
}

/** A field's keydown that submits the form on Enter (not while an input method composes). */
export function submitOnEnter(submit: () => unknown): (e: KeyboardEvent) => void {
  return (e) => {
    if (e.key === 'Enter' && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      void submit();
    }
  };
}
