// grant.js grants one category alone through the page's consent platform,
// when it is one whose JavaScript API can do that: Cookiebot, OneTrust,
// CookieScript or vanilla-cookieconsent. It runs in the page's own world
// (the APIs are page globals). It calls the API, waits a moment, and asks
// the platform whether the category is now granted, so that a call the
// platform ignored is not reported as consent. It returns
// {cmp, call, granted} or null when no platform it knows is on the page
// or the platform has no category matching __CATEGORY__.
(async (want) => {
  const w = window;
  const wait = () => new Promise((r) => setTimeout(r, 300));
  // The names platforms commonly give crumb's categories.
  const synonyms = {
    analytics: ['analytics', 'statistics', 'performance', 'measurement', 'analytical'],
    marketing: ['marketing', 'ads', 'advertising', 'advertisement', 'targeting'],
  }[want] || [want];

  const cb = w.Cookiebot;
  if (cb && typeof cb.submitCustomConsent === 'function') {
    const kind = { analytics: 'statistics', marketing: 'marketing', preferences: 'preferences' }[want];
    if (!kind) return null;
    const args = [kind === 'preferences', kind === 'statistics', kind === 'marketing'];
    cb.submitCustomConsent(...args);
    await wait();
    return { cmp: 'Cookiebot', call: `Cookiebot.submitCustomConsent(${args.join(', ')})`, granted: !!(cb.consent && cb.consent[kind]) };
  }

  const ot = w.OneTrust;
  if (ot && typeof ot.UpdateConsent === 'function') {
    // OneTrust's default groups: C0002 performance, C0003 functional,
    // C0004 targeting, C0005 social media.
    const groups = { analytics: 'C0002', marketing: 'C0004', preferences: 'C0003' };
    const group = groups[want];
    if (!group) return null;
    const calls = [];
    for (const [cat, g] of Object.entries(groups)) {
      const value = `${g}:${cat === want ? 1 : 0}`;
      ot.UpdateConsent('Category', value);
      calls.push(`OneTrust.UpdateConsent('Category', '${value}')`);
    }
    await wait();
    const active = String(w.OnetrustActiveGroups || '');
    return { cmp: 'OneTrust', call: calls.join('; '), granted: active.split(',').includes(group) };
  }

  const cs = w.CookieScript && w.CookieScript.instance;
  if (cs && typeof cs.acceptAction === 'function') {
    const kind = { analytics: 'performance', marketing: 'targeting', preferences: 'functionality' }[want];
    if (!kind) return null;
    cs.acceptAction([kind]);
    await wait();
    const state = typeof cs.currentState === 'function' ? cs.currentState() : null;
    return { cmp: 'CookieScript', call: `CookieScript.instance.acceptAction(['${kind}'])`, granted: !!(state && (state.categories || []).includes(kind)) };
  }

  const cc = w.CookieConsent;
  if (cc && typeof cc.acceptCategory === 'function' && typeof cc.getConfig === 'function') {
    const names = Object.keys(cc.getConfig('categories') || {});
    const name = names.find((n) => synonyms.includes(n.toLowerCase()));
    if (!name) return null;
    cc.acceptCategory([name]);
    await wait();
    return { cmp: 'vanilla-cookieconsent', call: `CookieConsent.acceptCategory(['${name}'])`, granted: typeof cc.acceptedCategory === 'function' && cc.acceptedCategory(name) };
  }
  return null;
})(__CATEGORY__)
