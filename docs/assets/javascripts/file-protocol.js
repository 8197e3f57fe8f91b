// Opened from disk (file://), a page must request nothing that the browser refuses there. Material's
// language selector fetches each language's sitemap.xml (named by the <link rel="alternate"> tags in
// the head) to keep the reader on the same page, and browsers refuse such requests to file:// URLs;
// mkdocs-static-i18n already points the selector's links at the same page in the other language, so
// the head's tags are dropped before Material's script reads them. Loaded from extra.polyfills (head).
if (location.protocol === "file:") {
  for (const link of document.querySelectorAll('link[rel="alternate"][hreflang]')) link.remove();
}
