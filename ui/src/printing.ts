// The current case's stamped copies: selection, stamping (with the status re-check), the print dialog, direct printing, saving, and what the clerk is told.
import { reactive } from 'vue';
import * as api from './api';
import { t } from './i18n';
import { effectiveStatus, markLicenseStatus, onCustomerCleared, state, type Card } from './session';
import type { AppError, CopyDto, PrintedDto, SavedDto } from './types';

export type Intent = 'print' | 'save';

/** The strip under the scan bar that says what became of the last print or save. */
export type Notice =
  | { kind: 'working'; intent: Intent }
  | { kind: 'printed'; printer: string; copies: number; items: { serial: string; name: string }[] }
  | { kind: 'saved'; files: { serial: string; name: string; path: string }[] }
  | { kind: 'notSaved' }
  | { kind: 'error'; error: AppError; licenseName: string | null };

export type DialogPhase = 'ready' | 'printing' | 'saving' | 'done';

export interface PrintDialogState {
  copies: CopyDto[];
  phase: DialogPhase;
  error: AppError | null;
  printed: PrintedDto[] | null;
  /** What the clerk chose, for the confirmation. */
  printer: string | null;
  count: number;
}

/** The question asked when the re-check could not reach the gateway (STATUS_UNCHECKED). */
export interface UncheckedQuestion { licenseName: string; error: AppError }

export interface PrintState {
  /** License codes ticked on the cards, for 打印所选 / 另存为 PDF. */
  selected: string[];
  /** Stamping, printing or saving outside the dialog. */
  busy: boolean;
  dialog: PrintDialogState | null;
  unchecked: UncheckedQuestion | null;
  notice: Notice | null;
}

export const print = reactive<PrintState>({ selected: [], busy: false, dialog: null, unchecked: null, notice: null });

// Bumped when the customer is cleared: answers that arrive later belong to nobody.
let gen = 0;
let answer: ((go: boolean) => void) | null = null;
let closeTimer: ReturnType<typeof setTimeout> | undefined;

/** How long the dialog shows its confirmation before it closes on its own. */
export const DONE_CLOSE_MS = 2500;

/** A copy can be made only of a license that is valid now and whose file is here. */
export function printable(card: Card): boolean {
  return card.phase === 'ready' && !!card.file && effectiveStatus(card) === 'valid';
}

function cardOf(code: string): Card | undefined {
  return state.cards.find((c) => c.summary.licenseCode === code);
}

function nameOf(card: Card): string {
  return (card.license ?? card.summary).name;
}

/** The selection as it may be used now: licenses that turned revoked or expired drop out. */
export function selectedPrintable(): string[] {
  return print.selected.filter((code) => {
    const card = cardOf(code);
    return !!card && printable(card);
  });
}

export function isSelected(code: string): boolean {
  return print.selected.includes(code);
}

export function toggleSelected(code: string, on: boolean): void {
  const card = cardOf(code);
  if (on && (!card || !printable(card))) return;
  const rest = print.selected.filter((c) => c !== code);
  print.selected = on ? [...rest, code] : rest;
}

/** Whether a new print or save may start (nothing else of it on screen or under way). */
export function canStart(): boolean {
  return !print.busy && !print.dialog && !print.unchecked;
}

export function dismissNotice(): void {
  if (print.notice?.kind !== 'working') print.notice = null;
}

export function printLicenses(codes: string[]): Promise<void> {
  return run(codes, 'print');
}

export function saveLicenses(codes: string[]): Promise<void> {
  return run(codes, 'save');
}

function inCardOrder(codes: string[]): Card[] {
  return state.cards.filter((c) => codes.includes(c.summary.licenseCode) && printable(c));
}

async function run(codes: string[], intent: Intent): Promise<void> {
  if (!canStart() || !state.counter) return;
  const cards = inCardOrder(codes);
  if (!cards.length) return;
  const my = gen;
  print.busy = true;
  print.notice = { kind: 'working', intent };
  const copies = await prepareAll(cards, my);
  if (my !== gen) return;
  if (!copies) {
    print.busy = false;
    return;
  }
  if (intent === 'save') {
    await saveNow(copies, my);
  } else if (state.counter.printing.mode === 'direct') {
    await printDirect(copies, my);
  } else {
    print.notice = null;
    print.busy = false;
    print.dialog = { copies, phase: 'ready', error: null, printed: null, printer: null, count: 1 };
  }
}

/** Stamps one copy per license, in order; any refusal stops the whole request and un-does nothing
 *  half: copies already made are reported as cancelled. */
async function prepareAll(cards: Card[], my: number): Promise<CopyDto[] | null> {
  const out: CopyDto[] = [];
  let allowUnchecked = false;
  for (const card of cards) {
    const code = card.summary.licenseCode;
    for (;;) {
      try {
        const copy = await api.prepareCopy(code, allowUnchecked);
        if (my !== gen) return null;
        out.push(copy);
        break;
      } catch (e) {
        if (my !== gen) return null;
        const err = api.asAppError(e);
        if (err.code === 'STATUS_UNCHECKED' && !allowUnchecked) {
          const go = await ask({ licenseName: nameOf(card), error: err });
          if (my !== gen) return null;
          if (go) {
            // One answer for the whole request: the gateway is out of reach for all of them.
            allowUnchecked = true;
            continue;
          }
          abandon(out);
          print.notice = null;
          return null;
        }
        if (err.code === 'LICENSE_REVOKED') markLicenseStatus(code, 'revoked');
        if (err.code === 'LICENSE_EXPIRED') markLicenseStatus(code, 'expired');
        print.selected = print.selected.filter((c) => c !== code || printable(card));
        abandon(out);
        print.notice = { kind: 'error', error: err, licenseName: nameOf(card) };
        return null;
      }
    }
  }
  return out;
}

function ask(q: UncheckedQuestion): Promise<boolean> {
  print.unchecked = q;
  return new Promise((resolve) => {
    answer = (go) => {
      answer = null;
      print.unchecked = null;
      resolve(go);
    };
  });
}

/** The clerk's answer to the STATUS_UNCHECKED question. */
export function answerUnchecked(go: boolean): void {
  answer?.(go);
}

function abandon(copies: CopyDto[]): void {
  if (copies.length) void api.cancelPrint(copies.map((c) => c.serial)).catch(() => undefined);
}

function nameOfCopy(copies: CopyDto[], serial: string): string {
  return copies.find((c) => c.serial === serial)?.licenseName ?? '';
}

function printedNotice(done: PrintedDto[], copies: CopyDto[], count: number): Notice {
  return {
    kind: 'printed',
    printer: done[0]?.printer ?? '',
    copies: count,
    items: done.map((d) => ({ serial: d.serial, name: nameOfCopy(copies, d.serial) })),
  };
}

function remember(printer: string | null, count: number): void {
  const p = state.counter?.printing;
  if (!p) return;
  if (printer) p.lastPrinter = printer;
  p.lastCopies = count;
}

async function printDirect(copies: CopyDto[], my: number): Promise<void> {
  try {
    const done = await api.printCopies(copies.map((c) => c.serial), null, 1);
    if (my !== gen) return;
    print.notice = printedNotice(done, copies, 1);
  } catch (e) {
    if (my !== gen) return;
    print.notice = { kind: 'error', error: api.asAppError(e), licenseName: null };
  } finally {
    if (my === gen) print.busy = false;
  }
}

/** Saves to the configured or remembered folder; asks for one the first time. 'none': no folder chosen. */
async function save(copies: CopyDto[]): Promise<SavedDto[] | 'none'> {
  let dir: string | null = null;
  if (!state.counter?.printing.saveDir) {
    dir = await api.chooseFolder(t('print.chooseFolder'));
    if (!dir) return 'none';
  }
  const saved = await api.saveCopies(copies.map((c) => c.serial), dir);
  if (dir && state.counter) state.counter.printing.saveDir = dir;
  return saved;
}

function savedNotice(saved: SavedDto[], copies: CopyDto[]): Notice {
  return { kind: 'saved', files: saved.map((s) => ({ serial: s.serial, path: s.path, name: nameOfCopy(copies, s.serial) })) };
}

async function saveNow(copies: CopyDto[], my: number): Promise<void> {
  try {
    const saved = await save(copies);
    if (my !== gen) return;
    if (saved === 'none') {
      abandon(copies);
      print.notice = { kind: 'notSaved' };
    } else {
      print.notice = savedNotice(saved, copies);
    }
  } catch (e) {
    if (my !== gen) return;
    print.notice = { kind: 'error', error: api.asAppError(e), licenseName: null };
  } finally {
    if (my === gen) print.busy = false;
  }
}

// ---------- the print dialog ----------

export async function printFromDialog(printer: string, count: number): Promise<void> {
  const d = print.dialog;
  if (!d || d.phase !== 'ready') return;
  const my = gen;
  d.phase = 'printing';
  d.error = null;
  try {
    const done = await api.printCopies(d.copies.map((c) => c.serial), printer, count);
    if (my !== gen || print.dialog !== d) return;
    d.printed = done;
    d.printer = done[0]?.printer ?? printer;
    d.count = count;
    d.phase = 'done';
    remember(printer, count);
    print.notice = printedNotice(done, d.copies, count);
    closeTimer = setTimeout(() => closeDialog(), DONE_CLOSE_MS);
  } catch (e) {
    if (my !== gen || print.dialog !== d) return;
    d.phase = 'ready';
    d.error = api.asAppError(e);
  }
}

export async function saveFromDialog(): Promise<void> {
  const d = print.dialog;
  if (!d || d.phase !== 'ready') return;
  const my = gen;
  d.phase = 'saving';
  d.error = null;
  try {
    const saved = await save(d.copies);
    if (my !== gen || print.dialog !== d) return;
    if (saved === 'none') {
      d.phase = 'ready';
      return;
    }
    // Saved is an end of its own: the dialog closes and the strip says where the files are.
    print.notice = savedNotice(saved, d.copies);
    print.dialog = null;
  } catch (e) {
    if (my !== gen || print.dialog !== d) return;
    d.phase = 'ready';
    d.error = api.asAppError(e);
  }
}

/** Closes the dialog; copies that were neither printed nor saved are reported as cancelled. */
export function closeDialog(): void {
  const d = print.dialog;
  if (!d || d.phase === 'printing' || d.phase === 'saving') return;
  if (closeTimer !== undefined) clearTimeout(closeTimer);
  closeTimer = undefined;
  if (d.phase !== 'done') abandon(d.copies);
  print.dialog = null;
}

onCustomerCleared(() => {
  gen++;
  if (closeTimer !== undefined) clearTimeout(closeTimer);
  closeTimer = undefined;
  // The picker closed by 下一位 or a new scan is a cancelled print too (before next_customer reaches the shell).
  if (print.dialog?.phase === 'ready') abandon(print.dialog.copies);
  answer?.(false);
  answer = null;
  print.selected = [];
  print.busy = false;
  print.dialog = null;
  print.unchecked = null;
  print.notice = null;
});
