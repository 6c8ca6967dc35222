// 大字模式: every text 1.5× larger with contrast ≥ 7:1 (counter.css, html.large-type). IT's default is
// `[window] large_type`; a clerk's own choice in the header is remembered on this PC and wins.
import { ref, watch } from 'vue';

const KEY = 'yueshang.largeType';

/** The clerk's remembered choice, or null when this PC has none. */
function remembered(): boolean | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === '1' ? true : v === '0' ? false : null;
  } catch {
    return null;
  }
}

export const largeType = ref<boolean>(remembered() ?? false);

watch(largeType, (on) => document.documentElement.classList.toggle('large-type', on), { immediate: true });

/** The configuration's default, applied unless this PC remembers a choice of its own. */
export function applyConfiguredLargeType(configured: boolean | undefined): void {
  if (remembered() === null) largeType.value = !!configured;
}

export function toggleLargeType(): void {
  largeType.value = !largeType.value;
  try {
    localStorage.setItem(KEY, largeType.value ? '1' : '0');
  } catch {
    // Without storage the choice holds until the app restarts.
  }
}
