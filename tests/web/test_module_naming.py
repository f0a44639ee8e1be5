"""Pages and URLconfs are named by one pattern in every app (issue 11, item 6).

Pages live in `views.py` or a `views/` package (one module per audience), URLconfs in
`urls.py` or a `urls/` package (one module per mount). Before, apps used `web.py`,
`pages.py`, `*_web.py`, `web_urls.py` and `pages_urls.py` side by side.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import URLResolver, get_resolver

import ztk

ROOT = Path(ztk.__file__).parent
OLD_NAMES = re.compile(r"^(web|pages|.*_web|.*_pages|.*_urls|.*_views)\.py$")


def test_no_page_or_url_module_has_an_old_style_name():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if OLD_NAMES.match(path.name) and path.parts[-2] != "templatetags"
    ]
    assert offenders == []


def test_every_mounted_urlconf_is_an_apps_urls_module():
    names = [
        getattr(item.urlconf_name, "__name__", "")
        for item in get_resolver().url_patterns
        if isinstance(item, URLResolver)
    ]
    names = [name for name in names if name.startswith("ztk.")]
    assert len(names) >= 10
    for name in names:
        assert re.fullmatch(r"ztk\.\w+\.urls(\.\w+)?", name), name
