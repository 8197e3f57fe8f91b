// Each language's site searches its own pages. mkdocs-static-i18n builds one search index for the English site
// (the site's root) and the Japanese one (ja/): a page with a Japanese version (x.ja.md) is in it twice, under its
// own location and under ja/; a page without one (the Japanese site shows the English page) once, under its English
// location, the duplicate dropped. Material's search loads that one index on every page, so a Japanese reader
// searching 報告 was offered the English pages first, and a result took them out of the Japanese site. This script
// keeps the entries of the reader's site: on a page under ja/ the entries under ja/ and, moved under ja/ (where the
// Japanese site has the page too), the English ones of pages with no Japanese version; elsewhere the English
// entries. It runs before Material's script (extra.polyfills, in the head) and filters the index where Material
// takes it: opened from disk (file://) the index is search/search_index.js, which assigns the global __index; from
// a server Material requests search/search_index.json with an XMLHttpRequest.
(() => {
  const languages = ["ja"]; // the sites other than the default (English) one, each in the folder of its code
  const root = new URL("../../", document.currentScript.src); // this file is assets/javascripts/ under the root
  const here = location.href.startsWith(root.href) ? location.href.slice(root.href.length) : "";
  const site = languages.find((code) => here.startsWith(`${code}/`)) || "";
  const page = (location) => location.split("#")[0];
  const inSite = (entry, code) => entry.location.startsWith(`${code}/`);
  const ofSite = (docs) => {
    const english = docs.filter((entry) => !languages.some((code) => inSite(entry, code)));
    if (!site) return english;
    const own = docs.filter((entry) => inSite(entry, site));
    const translated = new Set(own.map((entry) => page(entry.location.slice(site.length + 1))));
    const fallbacks = english.filter((entry) => !translated.has(page(entry.location)))
      .map((entry) => ({ ...entry, location: `${site}/${entry.location}` }));
    return [...own, ...fallbacks];
  };
  const keep = (index) => (index && Array.isArray(index.docs) ? { ...index, docs: ofSite(index.docs) } : index);

  // From disk: search/search_index.js says `var __index = {…}`, which calls this setter.
  let index;
  Object.defineProperty(window, "__index", {
    configurable: true,
    get: () => index,
    set: (value) => { index = keep(value); },
  });

  // From a server: the response of the request for search/search_index.json is filtered before Material reads it.
  const indexUrl = /\/search\/search_index\.json(?:[?#]|$)/;
  const Native = window.XMLHttpRequest;
  window.XMLHttpRequest = class extends Native {
    open(method, url, ...rest) {
      this.searchIndex = indexUrl.test(new URL(String(url), location.href).pathname);
      return super.open(method, url, ...rest);
    }

    get response() {
      return this.filtered === undefined ? super.response : this.filtered;
    }

    get responseText() {
      return this.filtered === undefined || typeof this.filtered !== "string" ? super.responseText : this.filtered;
    }

    addEventListener(type, listener, ...rest) {
      if (type !== "load" || !this.searchIndex) return super.addEventListener(type, listener, ...rest);
      const request = this;
      const body = () => super.response;
      const text = () => super.responseText;
      return super.addEventListener(type, function filterFirst(event) {
        const done = (filtered) => { request.filtered = filtered; listener.call(request, event); };
        if (request.status < 200 || request.status >= 300) return listener.call(request, event);
        if (request.responseType === "blob") {
          return body().text().then((json) => done(new Blob([JSON.stringify(keep(JSON.parse(json)))],
            { type: "application/json" })));
        }
        if (request.responseType === "json") return done(keep(body()));
        return done(JSON.stringify(keep(JSON.parse(text()))));
      }, ...rest);
    }
  };
})();
