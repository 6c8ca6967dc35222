// The accessibility check run at every screenshot (UI tests here; the real-window tests do the same
// through WebDriver, tests/window/page.rs): axe-core with the rules of a11y-rules.json (WCAG 2.1
// A/AA and best practices), run by a11y-in-page.js; a serious or critical violation not listed in
// a11y-exceptions.json fails the test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const IN_PAGE = readFileSync(here('a11y-in-page.js'), 'utf8');
export const RULES = JSON.parse(readFileSync(here('a11y-rules.json'), 'utf8'));
const EXCEPTIONS = JSON.parse(readFileSync(here('a11y-exceptions.json'), 'utf8'));

/** Whether a finding is one of the listed exceptions (a rule, and optionally a part of its element's selector). */
function excepted(f) {
  return EXCEPTIONS.some((e) => e.rule === f.rule && (!e.target || f.target.includes(e.target)));
}

/** Runs axe on the page as it is now; throws on serious or critical violations, naming rule, element and fix. */
export async function auditPage(page, name) {
  // page.evaluate runs outside the page's CSP, as WebDriver's scripts do in the real window.
  if (!(await page.evaluate(() => typeof window.__auditA11y === 'function'))) {
    await page.evaluate(AXE_SOURCE);
    await page.evaluate(IN_PAGE);
  }
  const findings = (await page.evaluate((rules) => window.__auditA11y(rules), RULES)).filter((f) => !excepted(f));
  const failing = findings.filter((f) => RULES.failingImpacts.includes(f.impact));
  for (const f of findings.filter((f) => !failing.includes(f))) console.log(`axe ${name}: ${f.impact} ${f.rule} at ${f.target} (${f.help})`);
  if (failing.length > 0) {
    const lines = failing.map((f) => `- ${f.impact} ${f.rule}: ${f.help}\n  element: ${f.target}\n  ${f.html}\n  fix: ${f.fix.replace(/\n/g, '\n  ')}`);
    throw new Error(`accessibility (axe-core) at the screenshot ${name}:\n${lines.join('\n')}`);
  }
}
