// accept.js finds a consent banner's "accept all" control and clicks it. It
// searches the document, every open shadow root and every same-origin
// iframe: first for the selectors of common consent platforms, then for the
// button texts they use in Swedish and English, most specific first. It
// clicks the first visible match and returns how it found it, or null. Text
// that refuses or configures ("reject", "inställningar", ...) never matches.
// It runs in an isolated world; cross-site iframes get their own call.
(() => {
  const selectors = [
    '#onetrust-accept-btn-handler',
    '#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll',
    '#CybotCookiebotDialogBodyButtonAccept',
    'button.coi-banner__accept',
    '#didomi-notice-agree-button',
    '[data-testid="uc-accept-all-button"]',
    '#truste-consent-button',
    '.qc-cmp2-summary-buttons button[mode="primary"]',
    '[data-cookiefirst-action="accept"]',
    '.cky-btn-accept',
    '.cmplz-accept',
    '.osano-cm-accept-all',
    '.iubenda-cs-accept-btn',
    '.cm-btn-accept-all',
    '[data-cookie-accept-all]',
    '#axeptio_btn_acceptAll',
    '.cmpboxbtnyes',
    '[data-tid="banner-accept"]',
    'button.sp_choice_type_11',
    '.cc-allow',
  ];
  const texts = [
    'acceptera alla', 'acceptera alla cookies', 'godkänn alla', 'godkänn alla cookies',
    'tillåt alla', 'tillåt alla cookies', 'jag accepterar', 'jag godkänner',
    'accept all', 'accept all cookies', 'allow all', 'allow all cookies',
    'accept cookies', 'i accept', 'i agree', 'agree', 'accept', 'acceptera',
    'godkänn', 'tillåt', 'ok', 'okej', 'got it', 'jag förstår',
  ];
  const roots = [];
  const walk = (root) => {
    roots.push(root);
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
        try { if (el.contentDocument) walk(el.contentDocument); } catch (e) {}
      }
    }
  };
  walk(document);
  const visible = (el) => {
    if (!el.getClientRects || el.getClientRects().length === 0) return false;
    const view = (el.ownerDocument && el.ownerDocument.defaultView) || window;
    const style = view.getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && !el.disabled;
  };
  const label = (el) => String(el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent || ''))
    .toLowerCase().replace(/\s+/g, ' ').replace(/[.!]+$/, '').trim();
  for (const sel of selectors) {
    for (const root of roots) {
      let el = null;
      try { el = root.querySelector(sel); } catch (e) {}
      if (el && visible(el)) {
        el.click();
        return { how: 'selector', what: sel, text: label(el).slice(0, 80) };
      }
    }
  }
  const candidates = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll('button, a, [role="button"], input[type="button"], input[type="submit"]')) {
      const t = label(el);
      if (t.length <= 40) candidates.push([t, el]);
    }
  }
  for (const want of texts) {
    for (const [t, el] of candidates) {
      if (t === want && visible(el)) {
        el.click();
        return { how: 'text', what: want, text: t };
      }
    }
  }
  return null;
})()
