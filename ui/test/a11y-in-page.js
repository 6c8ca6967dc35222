// Runs in the page under test, after axe-core: window.__auditA11y(rules) resolves to the violations,
// one entry per element. The UI tests (a11y.mjs, Playwright) and the real-window tests (page.rs,
// WebDriver) both load this file, so both check exactly the same way (rules from a11y-rules.json).
// (node --test also loads every file under test/: outside a page it defines nothing.)
if (typeof window === 'object') window.__auditA11y = async (rules) => {
  // 大字模式 promises text contrast of 7:1 at every size: axe's enhanced rule, set so, on its screens.
  window.axe.configure({ checks: [{ id: 'color-contrast-enhanced', options: rules.largeTypeContrast }] });
  const only = (runOnly) => window.axe.run(document, { runOnly, resultTypes: ['violations'] });
  const found = (await only({ type: 'tag', values: rules.tags })).violations;
  if (document.documentElement.classList.contains('large-type')) {
    const enhanced = (await only({ type: 'rule', values: ['color-contrast-enhanced'] })).violations;
    // Serious, as the AA rule rates a text below its threshold.
    found.push(...enhanced.map((v) => ({ ...v, impact: 'serious' })));
  }
  return found.flatMap((v) =>
    v.nodes.map((n) => ({
      rule: v.id, impact: v.impact, help: v.help, target: n.target.join(' '), html: n.html.slice(0, 160), fix: n.failureSummary,
    })),
  );
};
