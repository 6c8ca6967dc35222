// Who works at the counter: the sign-in screen's form, sign-in and sign-out, the idle lock, the role, the supervisor view's door, and dropping back to sign-in when the shell says the sign-in is gone.
import { reactive } from 'vue';
import * as api from './api';
import { resetCustomer, state } from './session';
import type { AppError, SignedIn } from './types';

export interface ShiftState {
  account: string;
  password: string;
  busy: boolean;
  error: AppError | null;
  /** The shell dropped the sign-in (SIGN_IN_REQUIRED): the sign-in screen says 登录已失效. */
  expired: boolean;
  /** A scan came where it cannot be used (the sign-in screen, the supervisor view): it was dropped, and the screen says so. */
  scanIgnored: boolean;
  /** The supervisor view replaces the counter screen (a signed-in 值班长 only). */
  supervisorOpen: boolean;
  aboutOpen: boolean;
  /** 退出登录 asked while a customer is on screen: the question is open. */
  confirmSignOut: boolean;
  signingOut: boolean;
  /** sign_out itself failed (the window signs out all the same): said on the sign-in screen. */
  signOutError: AppError | null;
}

export const shift = reactive<ShiftState>({
  account: '', password: '', busy: false, error: null, expired: false, scanIgnored: false,
  supervisorOpen: false, aboutOpen: false, confirmSignOut: false, signingOut: false, signOutError: null,
});

/** What other modules (the supervisor view) forget when the person at the counter leaves. */
const leaveHooks: (() => void)[] = [];

export function onShiftEnded(fn: () => void): void {
  leaveHooks.push(fn);
}

export function currentUser(): SignedIn | null {
  return state.counter?.signIn?.user ?? null;
}

/** Nothing but the sign-in screen: the counter has accounts and no one is signed in. */
export function signInNeeded(): boolean {
  const s = state.counter?.signIn;
  return !!s && s.required && !s.user;
}

/** The supervisor view needs a signed-in 值班长; a counter without accounts has none. */
export function isSupervisor(): boolean {
  return currentUser()?.role === 'supervisor';
}

export function fillAccount(account: string, password: string): void {
  shift.account = account;
  shift.password = password;
  shift.error = null;
}

export async function signIn(): Promise<void> {
  const account = shift.account.trim();
  const password = shift.password;
  if (shift.busy || !account || !password) return;
  shift.busy = true;
  shift.error = null;
  try {
    const user = await api.signIn(account, password);
    await takeUser(user);
    shift.account = '';
    shift.expired = false;
    shift.signOutError = null;
    shift.scanIgnored = false;
  } catch (e) {
    shift.error = api.asAppError(e);
  } finally {
    // Never kept: not after a wrong try, not after a right one.
    shift.password = '';
    shift.busy = false;
  }
}

/** The shell answers with the person; the counter's own figures (the handling number after the last
 *  person's case was ended, the effective operator) are read again before the counter shows. */
async function takeUser(user: SignedIn): Promise<void> {
  try {
    const info = await api.counterInfo();
    if (state.counter) {
      state.counter = { ...info, signIn: { ...info.signIn, required: true, user, locked: null } };
      if (state.phase === 'idle' && !state.enterprise) state.bizNum = info.bizNum;
      return;
    }
  } catch (e) {
    // Signed out again at once (handled in api.ts): not signed in after all.
    if (api.asAppError(e).code === 'SIGN_IN_REQUIRED') throw e;
    // Otherwise the person is signed in all the same; the old figures are only a little stale.
  }
  if (state.counter) {
    state.counter.signIn = { ...state.counter.signIn, required: true, user, locked: null };
    state.counter.operator = { account: user.account, name: user.name };
  }
}

/** 退出登录: with a customer on screen, asked first (the shell ends the customer's case too). */
export function askSignOut(): void {
  if (!currentUser() || shift.signingOut) return;
  if (state.enterprise) shift.confirmSignOut = true;
  else void signOut();
}

export async function signOut(): Promise<void> {
  if (shift.signingOut) return;
  shift.confirmSignOut = false;
  shift.signingOut = true;
  let failed: AppError | null = null;
  try {
    await api.signOut();
  } catch (e) {
    const err = api.asAppError(e);
    // SIGN_IN_REQUIRED: already signed out at the shell, and already handled.
    if (err.code !== 'SIGN_IN_REQUIRED') failed = err;
  } finally {
    shift.signingOut = false;
  }
  // Whatever the shell said, the window leaves nothing of the person or the customer on screen.
  leave(false);
  shift.signOutError = failed;
}

/** Back to the sign-in screen with nothing of the customer, the supervisor view or the person left; `locked`: whose
 *  session locked (the screen names them and has their account filled in). */
function leave(expired: boolean, locked: SignedIn | null = null): void {
  resetCustomer();
  shift.supervisorOpen = false;
  shift.aboutOpen = false;
  shift.confirmSignOut = false;
  shift.account = locked?.account ?? '';
  shift.password = '';
  shift.error = null;
  shift.scanIgnored = false;
  shift.signOutError = null;
  shift.expired = expired;
  for (const fn of leaveHooks) fn();
  if (state.counter) state.counter.signIn = { ...state.counter.signIn, required: true, user: null, locked };
}

/** Nobody touched the window for [privacy] lock_minutes: the customer leaves the screen at once, the shell locks
 *  the session (and closes the customer's case), and the sign-in screen says whose it was. Locked on screen even
 *  if the shell could not record it: signing in again is always the way back. */
export async function lockSession(): Promise<void> {
  const person = currentUser();
  if (!person) return;
  resetCustomer();
  try {
    const { locked, bizNum } = await api.lockSession();
    state.bizNum = bizNum;
    // Nobody was signed in at the shell after all: the sign-in had ended.
    if (!locked) {
      leave(true);
      return;
    }
    leave(false, locked);
  } catch (e) {
    // SIGN_IN_REQUIRED has already taken the window to the sign-in screen.
    if (api.asAppError(e).code !== 'SIGN_IN_REQUIRED') leave(false, person);
  }
}

/** Whose session is locked, when the sign-in screen is up because of a lock. */
export function lockedUser(): SignedIn | null {
  return state.counter?.signIn?.locked ?? null;
}

// Whichever command it was (scan, print, submit, the supervisor's), a lost sign-in ends up here once.
api.onSignInRequired(() => leave(true));

export function openSupervisor(): void {
  if (isSupervisor()) {
    shift.supervisorOpen = true;
    shift.scanIgnored = false;
  }
}

export function closeSupervisor(): void {
  shift.supervisorOpen = false;
  shift.scanIgnored = false;
}
