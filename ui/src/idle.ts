// The unattended window: keys, clicks, the wheel and scans are activity; with a customer on screen and nobody there for [privacy] idle_clear_minutes a countdown runs, then the window clears itself as at 下一位; after lock_minutes the session locks.
import { reactive } from 'vue';
import { idleClearCustomer, state } from './session';
import { currentUser, lockSession, signInNeeded } from './shift';

export interface IdleState {
  /** Whole seconds left before the idle clear, while the countdown shows; null otherwise. */
  countdown: number | null;
  /** The window cleared itself: said until the next key, click or scan. */
  cleared: boolean;
}

export const idle = reactive<IdleState>({ countdown: null, cleared: false });

/** How often the watcher looks: the countdown's seconds are shown at most this late. */
const TICK_MS = 200;

// The last activity on two clocks: the monotonic one is immune to the PC's clock being set, the wall clock also
// counts time the PC spent asleep (a counter left alone over lunch must lock when it wakes up).
let lastMono = performance.now();
let lastWall = Date.now();
/** A clear or a lock is on its way to the shell: the watcher waits for it. */
let acting = false;
let timer: ReturnType<typeof setInterval> | undefined;

function idleMs(): number {
  return Math.max(performance.now() - lastMono, Date.now() - lastWall);
}

/** A key, a click, the wheel or a scan: the clerk is there. Stops a running countdown. */
export function noteActivity(): void {
  lastMono = performance.now();
  lastWall = Date.now();
  idle.countdown = null;
  idle.cleared = false;
}

function tick(): void {
  const privacy = state.counter?.privacy;
  // Nothing to watch before the counter runs, on the sign-in screen, or while a clear or lock is under way.
  if (!privacy || signInNeeded() || acting) {
    idle.countdown = null;
    return;
  }
  const ms = idleMs();
  const lockAfter = privacy.lockSeconds;
  if (lockAfter && currentUser() && state.counter?.signIn.required && ms >= lockAfter * 1000) {
    idle.countdown = null;
    void act(lockSession);
    return;
  }
  const clearAfter = privacy.idleClearSeconds;
  if (!clearAfter || !state.enterprise || ms < clearAfter * 1000) {
    idle.countdown = null;
    return;
  }
  const left = ((clearAfter + privacy.countdownSeconds) * 1000 - ms) / 1000;
  if (left > 0) {
    idle.countdown = Math.ceil(left);
    return;
  }
  idle.countdown = null;
  void act(async () => {
    await idleClearCustomer();
    idle.cleared = true;
    // As after 下一位: nothing keeps focus, so a stray Enter does nothing and the scanner works at once.
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  });
}

async function act(what: () => Promise<void>): Promise<void> {
  acting = true;
  try {
    await what();
  } finally {
    acting = false;
  }
}

const ACTIVITY = ['keydown', 'pointerdown', 'wheel'] as const;

/** Starts watching (once the window is up); returns the way to stop. */
export function watchIdle(): () => void {
  noteActivity();
  // Capture: a key a dialog keeps to itself (stopPropagation) is activity all the same.
  for (const type of ACTIVITY) window.addEventListener(type, noteActivity, { capture: true, passive: true });
  timer = setInterval(tick, TICK_MS);
  return () => {
    for (const type of ACTIVITY) window.removeEventListener(type, noteActivity, { capture: true });
    clearInterval(timer);
    timer = undefined;
  };
}
