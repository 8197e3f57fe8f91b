"""MkDocs hooks of the documentation site (mkdocs.yml, ``hooks:``).

A page of the Japanese site (ja/) that has no Japanese version is the English page (mkdocs-static-i18n falls back
to it), but the site's html element says ``lang="ja"``: a screen reader would read English text with Japanese
pronunciation. Such a page's content is wrapped in ``<div lang="en">`` (the site's menus around it stay Japanese).
"""

from __future__ import annotations


def on_page_content(html, page, config, files):
    """Mark the content of a page written in another language than its site's (``lang="en"`` on ja/ fallbacks)."""
    page_language = getattr(page.file, "locale", None)  # the language of the file (set by mkdocs-static-i18n)
    site_language = getattr(page.file, "locale_alternate_of", None)  # the language of the site it is built into
    if page_language and site_language and page_language != site_language:
        return f'<div lang="{page_language}" markdown="0">\n{html}\n</div>'
    return html
