#!/usr/bin/env bash
# Refresh the translation catalogue and compile it.
#
#   scripts/messages.sh          extract every gettext string under ztk/ into the one catalogue,
#                                ztk/locale/{zh_Hans,en}/LC_MESSAGES/django.po, then compile .mo
#   scripts/messages.sh compile  only compile (after editing a .po by hand)
#
# There is a single catalogue, ztk/locale (settings.LOCALE_PATHS). Never create a `locale`
# folder inside an app (ztk/api/locale, ztk/web/locale, ...): makemessages would silently move
# that app's strings into it, and Django would only find them while that app is installed.
# This script refuses to run while such a folder exists, and tests/web/test_i18n.py fails.
#
# Needs GNU gettext (xgettext, msgmerge, msgfmt) — only here, at build time: the compiled .mo
# files are committed, so the running app never needs gettext. After extracting, translate
# every new or fuzzy entry in the zh_Hans catalogue (remove the "#, fuzzy" flag once checked)
# and run this again; tests/web/test_i18n.py fails while anything is left untranslated.
# The English catalogue may keep empty msgstrs: English msgids are shown as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
ZTK="$PWD/.venv/bin/ztk"
export ZTK_TESTING="${ZTK_TESTING:-1}"  # no var/secret_key or database needed for this

for tool in xgettext msgmerge msgfmt; do
  command -v "$tool" >/dev/null || { echo "messages.sh: $tool not found (apt-get install gettext)" >&2; exit 1; }
done

# One catalogue only: no locale folder below an app of ztk/.
stray="$(find ztk -mindepth 2 -type d -name locale -not -path 'ztk/locale' -not -path 'ztk/locale/*' | sort)"
if [ -n "$stray" ]; then
  {
    echo "messages.sh: app-level locale folders found:"
    echo "$stray" | sed 's/^/  /'
    echo "Move their translations into ztk/locale/zh_Hans/LC_MESSAGES/django.po and 'git rm -r' them."
  } >&2
  exit 1
fi

# Run from ztk/ so that the whole package (apps and ztk/templates) is scanned and nothing
# outside it (.venv, tests, bench). With no app-level locale folder, every file under ztk/
# lands in LOCALE_PATHS[0] = ztk/locale; '--ignore */locale' keeps it that way even if one
# appears between the check above and the extraction.
cd ztk
if [ "${1:-}" != "compile" ]; then
  "$ZTK" makemessages -l zh_Hans -l en --no-obsolete \
    --ignore '*/locale' --ignore '*/static/*' --ignore '__pycache__'
fi
"$ZTK" compilemessages --locale zh_Hans --locale en
cd ..

stray="$(find ztk -mindepth 2 -type d -name locale -not -path 'ztk/locale' -not -path 'ztk/locale/*' | sort)"
if [ -n "$stray" ]; then
  echo "messages.sh: an app-level locale folder appeared: $stray" >&2
  exit 1
fi

# Report what is still untranslated in the Chinese catalogue.
msgfmt --statistics -o /dev/null ztk/locale/zh_Hans/LC_MESSAGES/django.po
